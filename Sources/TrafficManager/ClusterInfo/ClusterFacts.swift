import NetworkAddress

/// The facts about the cluster that clients need to route and resolve, as the manager found them.
public struct ClusterFacts: Sendable, Equatable {
    public var serviceSubnet: IPSubnet?
    public var podSubnets: [IPSubnet]
    /// How the pod subnets were found: `nodes`, `coverage` or `environment`.
    public var podCIDRStrategy: String
    /// Without a trailing dot, e.g. `cluster.local`.
    public var clusterDomain: String
    public var dnsIP: IPAddress?
    public var managerPodIP: IPAddress?
    public var managerPort: Int
    public var managedNamespaces: [String]

    public init(
        serviceSubnet: IPSubnet? = nil, podSubnets: [IPSubnet] = [], podCIDRStrategy: String = "",
        clusterDomain: String = "cluster.local", dnsIP: IPAddress? = nil, managerPodIP: IPAddress? = nil,
        managerPort: Int = 8081, managedNamespaces: [String] = []
    ) {
        self.serviceSubnet = serviceSubnet
        self.podSubnets = podSubnets
        self.podCIDRStrategy = podCIDRStrategy
        self.clusterDomain = clusterDomain
        self.dnsIP = dnsIP
        self.managerPodIP = managerPodIP
        self.managerPort = managerPort
        self.managedNamespaces = managedNamespaces
    }
}
