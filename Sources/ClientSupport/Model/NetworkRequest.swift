import NetworkAddress

/// What the workstation's network needs to join the cluster: the user daemon asks the root
/// daemon for it, with the cluster's facts and a Unix socket whose every connection the user
/// daemon carries to the traffic-manager's tunnel port (the root daemon never sees a credential).
public struct NetworkRequest: Sendable, Equatable {
    /// The session's id, for logs.
    public var sessionID: String
    /// The cluster's service and pod subnets.
    public var clusterSubnets: [IPSubnet]
    /// `--also-proxy`, `--never-proxy`, `--allow-conflicting-subnets`.
    public var alsoProxy: [IPSubnet]
    public var neverProxy: [IPSubnet]
    public var allowConflicting: [IPSubnet]
    /// Addresses that must stay off the tunnel (the API server's: the tunnel rides on it).
    public var keepLocal: [IPAddress]
    /// The cluster's DNS server (kube-dns) and domain.
    public var clusterDNS: IPAddress?
    public var clusterDomain: String
    /// Bare names resolve in this namespace; `svc.ns` in the mapped ones.
    public var connectedNamespace: String
    public var mappedNamespaces: [String]
    /// The user daemon's relay socket to the manager's tunnel port.
    public var tunnelSocket: String
    /// How many tunnel connections to keep (flows are spread over them).
    public var tunnelConnections: Int

    public init(
        sessionID: String = "", clusterSubnets: [IPSubnet] = [], alsoProxy: [IPSubnet] = [], neverProxy: [IPSubnet] = [],
        allowConflicting: [IPSubnet] = [], keepLocal: [IPAddress] = [], clusterDNS: IPAddress? = nil,
        clusterDomain: String = "", connectedNamespace: String = "", mappedNamespaces: [String] = [],
        tunnelSocket: String = "", tunnelConnections: Int = 1
    ) {
        self.sessionID = sessionID
        self.clusterSubnets = clusterSubnets
        self.alsoProxy = alsoProxy
        self.neverProxy = neverProxy
        self.allowConflicting = allowConflicting
        self.keepLocal = keepLocal
        self.clusterDNS = clusterDNS
        self.clusterDomain = clusterDomain
        self.connectedNamespace = connectedNamespace
        self.mappedNamespaces = mappedNamespaces
        self.tunnelSocket = tunnelSocket
        self.tunnelConnections = tunnelConnections
    }

    /// The same request with the parts that come from the cluster's info replaced (a node
    /// joined with a new pod subnet, say).
    public func updated(with clusterInfo: ClusterInfo) -> NetworkRequest {
        var request = self
        request.clusterSubnets = clusterInfo.subnets
        request.clusterDNS = clusterInfo.dnsIP
        request.clusterDomain = clusterInfo.clusterDomain
        return request
    }
}
