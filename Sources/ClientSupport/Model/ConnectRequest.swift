import NetworkAddress

/// What `telepresence connect` asks the user daemon for.
public struct ConnectRequest: Sendable, Equatable {
    /// kubectl's flags by their long names without dashes (kubeconfig, context, cluster, user,
    /// server, token, certificate-authority, insecure-skip-tls-verify, tls-server-name,
    /// request-timeout, as, as-uid, as-group comma-joined).
    public var kubeFlags: [String: String]
    /// The connected namespace; nil means the context's.
    public var namespace: String?
    /// Where the traffic-manager runs; nil means the configured default.
    public var managerNamespace: String?
    /// The namespaces to map (DNS, routing); empty means all.
    public var mappedNamespaces: [String]
    /// The CLI's environment (KUBECONFIG, HOME, PATH for exec plugins) and folder, so the daemon
    /// reads the kubeconfig the user means; empty means the daemon's own.
    public var environment: [String: String]
    public var workingDirectory: String?
    /// `--also-proxy`, `--never-proxy`, `--allow-conflicting-subnets`.
    public var alsoProxy: [IPSubnet]
    public var neverProxy: [IPSubnet]
    public var allowConflictingSubnets: [IPSubnet]

    public init(
        kubeFlags: [String: String] = [:], namespace: String? = nil, managerNamespace: String? = nil,
        mappedNamespaces: [String] = [], environment: [String: String] = [:], workingDirectory: String? = nil,
        alsoProxy: [IPSubnet] = [], neverProxy: [IPSubnet] = [], allowConflictingSubnets: [IPSubnet] = []
    ) {
        self.kubeFlags = kubeFlags
        self.namespace = namespace
        self.managerNamespace = managerNamespace
        self.mappedNamespaces = mappedNamespaces
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.alsoProxy = alsoProxy
        self.neverProxy = neverProxy
        self.allowConflictingSubnets = allowConflictingSubnets
    }
}
