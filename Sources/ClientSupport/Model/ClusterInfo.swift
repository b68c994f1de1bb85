import NetworkAddress

/// The cluster's facts as the traffic-manager reports them: what the workstation routes and
/// resolves.
public struct ClusterInfo: Sendable, Equatable {
    public var serviceSubnet: IPSubnet?
    public var podSubnets: [IPSubnet]
    /// How the manager found the pod subnets: `nodes`, `coverage` or `environment`.
    public var podCIDRStrategy: String
    /// Without a trailing dot, e.g. `cluster.local`.
    public var clusterDomain: String
    /// The cluster's DNS server (kube-dns).
    public var dnsIP: IPAddress?
    public var managedNamespaces: [String]

    public init(
        serviceSubnet: IPSubnet? = nil, podSubnets: [IPSubnet] = [], podCIDRStrategy: String = "",
        clusterDomain: String = "", dnsIP: IPAddress? = nil, managedNamespaces: [String] = []
    ) {
        self.serviceSubnet = serviceSubnet
        self.podSubnets = podSubnets
        self.podCIDRStrategy = podCIDRStrategy
        self.clusterDomain = clusterDomain
        self.dnsIP = dnsIP
        self.managedNamespaces = managedNamespaces
    }

    /// The subnets the workstation routes to the cluster: services, then pods.
    public var subnets: [IPSubnet] { (serviceSubnet.map { [$0] } ?? []) + podSubnets }
}
