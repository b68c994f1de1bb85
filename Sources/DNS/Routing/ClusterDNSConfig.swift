import NetworkAddress

/// What the resolver knows about the connected cluster: it decides which names are cluster names.
/// The root daemon builds it from the traffic-manager's cluster info and the session, and replaces
/// it when namespaces or subnets change.
public struct ClusterDNSConfig: Sendable, Hashable {
    /// The cluster's DNS domain, `cluster.local` by default.
    public var clusterDomain: DNSName
    /// The namespace bare names resolve in (`svc` -> `svc.<ns>.svc.<domain>`).
    public var connectedNamespace: String
    /// Namespaces whose services answer to `svc.ns`: the mapped namespaces, or every namespace the
    /// traffic-manager reports when all are mapped. The connected namespace always counts.
    public var namespaces: Set<String>
    /// The synthetic search domain the workstation's resolver configuration appends to single-label
    /// names (Telepresence's `tel2-search`); names under it are answered by the cluster or not at all.
    public var syntheticSearchDomain: DNSName?
    /// The search domains the workstation had (e.g. `corp.example`). When the OS appends one to a
    /// cluster name (`svc.ns.corp.example`), the cluster is asked for `svc.ns`, and the upstream
    /// resolvers for the full name if the cluster has none.
    public var workstationSearchDomains: [DNSName]
    /// Subnets of the cluster's services; reverse names inside them go to the cluster.
    public var serviceSubnets: [IPSubnet]
    /// Subnets of the cluster's pods; reverse names inside them go to the cluster.
    public var podSubnets: [IPSubnet]
    /// Further suffixes to send to the cluster as they are (Telepresence's `includeSuffixes`).
    public var includeSuffixes: [DNSName]
    /// Suffixes never sent to the cluster unless a longer include suffix matches
    /// (Telepresence's `excludeSuffixes`).
    public var excludeSuffixes: [DNSName]

    public init(
        clusterDomain: DNSName = ClusterDNSConfig.defaultClusterDomain,
        connectedNamespace: String,
        namespaces: Set<String> = [],
        syntheticSearchDomain: DNSName? = ClusterDNSConfig.defaultSyntheticSearchDomain,
        workstationSearchDomains: [DNSName] = [],
        serviceSubnets: [IPSubnet] = [],
        podSubnets: [IPSubnet] = [],
        includeSuffixes: [DNSName] = [],
        excludeSuffixes: [DNSName] = []
    ) {
        self.clusterDomain = clusterDomain
        self.connectedNamespace = connectedNamespace
        self.namespaces = namespaces
        self.syntheticSearchDomain = syntheticSearchDomain
        self.workstationSearchDomains = workstationSearchDomains
        self.serviceSubnets = serviceSubnets
        self.podSubnets = podSubnets
        self.includeSuffixes = includeSuffixes
        self.excludeSuffixes = excludeSuffixes
    }

    /// `cluster.local`.
    public static let defaultClusterDomain = DNSName(unchecked: [Array("cluster".utf8), Array("local".utf8)])
    /// `tel2-search`, the name Telepresence uses, so resolver configurations look familiar.
    public static let defaultSyntheticSearchDomain = DNSName(unchecked: [Array("tel2-search".utf8)])
}
