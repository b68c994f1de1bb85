/// The kubectl-style command-line flags that change how the kubeconfig is read and applied.
/// `nil` means "not given"; every given value wins over the kubeconfig.
public struct ConfigurationOverrides: Sendable, Hashable {
    /// `--kubeconfig`: read only this file (a missing file is an error).
    public var kubeconfig: String?
    /// `--context`: use this context instead of `current-context`.
    public var context: String?
    /// `--cluster`: use this kubeconfig cluster instead of the context's.
    public var cluster: String?
    /// `--user`: use this kubeconfig user instead of the context's.
    public var user: String?
    /// `--namespace` / `-n`: instead of the context's namespace.
    public var namespace: String?
    /// `--server` / `-s`: replaces the cluster's server (and its `tls-server-name`, unless
    /// `--tls-server-name` is given too, as kubectl does).
    public var server: String?
    /// `--token`: a bearer token that replaces the user's authentication (token, token file,
    /// basic auth, exec plugin); client certificates stay.
    public var token: String?
    /// `--certificate-authority`: a CA file that replaces the cluster's CA and turns off
    /// `insecure-skip-tls-verify`.
    public var certificateAuthority: String?
    /// `--insecure-skip-tls-verify`: no server certificate check; drops the cluster's CA.
    public var insecureSkipTLSVerify: Bool?
    /// `--tls-server-name`.
    public var tlsServerName: String?
    /// `--request-timeout` in kubectl syntax: `0` (none), `30s`, `1m`, `2h`, or seconds.
    public var requestTimeout: String?
    /// `--as`, `--as-uid`, `--as-group`: impersonation that replaces the user's.
    public var impersonateUser: String?
    public var impersonateUID: String?
    public var impersonateGroups: [String]?

    public init(
        kubeconfig: String? = nil,
        context: String? = nil,
        cluster: String? = nil,
        user: String? = nil,
        namespace: String? = nil,
        server: String? = nil,
        token: String? = nil,
        certificateAuthority: String? = nil,
        insecureSkipTLSVerify: Bool? = nil,
        tlsServerName: String? = nil,
        requestTimeout: String? = nil,
        impersonateUser: String? = nil,
        impersonateUID: String? = nil,
        impersonateGroups: [String]? = nil
    ) {
        self.kubeconfig = kubeconfig
        self.context = context
        self.cluster = cluster
        self.user = user
        self.namespace = namespace
        self.server = server
        self.token = token
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.requestTimeout = requestTimeout
        self.impersonateUser = impersonateUser
        self.impersonateUID = impersonateUID
        self.impersonateGroups = impersonateGroups
    }
}
