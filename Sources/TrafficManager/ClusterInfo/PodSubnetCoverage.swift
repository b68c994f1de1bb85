import NetworkAddress

/// Pod subnets when nodes do not publish `podCIDRs` (some CNIs leave them empty): the smallest
/// set of subnets of a fixed prefix length that covers every pod IP seen, as Telepresence's
/// "coverage" strategy does. IPv4 IPs are grouped by /16, IPv6 by /64.
public enum PodSubnetCoverage {
    public static let ipv4Prefix = 16
    public static let ipv6Prefix = 64

    /// The covering subnets of `ips` (text addresses; unparsable ones are ignored), sorted.
    public static func cover(_ ips: some Sequence<String>) -> [IPSubnet] {
        var subnets = Set<IPSubnet>()
        for ip in ips {
            guard let address = IPAddress(ip) else { continue }
            subnets.insert(IPSubnet(address, prefixLength: address.isV4 ? ipv4Prefix : ipv6Prefix))
        }
        return subnets.sorted()
    }

    /// Node `podCIDRs` as subnets, merged: a subnet inside another one is dropped.
    public static func fromNodes(_ cidrs: some Sequence<String>) -> [IPSubnet] {
        cidrs.compactMap { IPSubnet($0) }.withoutNested()
    }
}
