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
            guard let bytes = IPSubnet.addressBytes(ip) else { continue }
            let prefix = bytes.count == 4 ? ipv4Prefix : ipv6Prefix
            if let subnet = IPSubnet(bytes: bytes, prefixLength: prefix) { subnets.insert(subnet) }
        }
        return subnets.sorted()
    }

    /// Node `podCIDRs` as subnets, merged: a subnet inside another one is dropped.
    public static func fromNodes(_ cidrs: some Sequence<String>) -> [IPSubnet] {
        let all = Set(cidrs.compactMap { IPSubnet($0) })
        return all.filter { subnet in
            !all.contains { other in
                other != subnet && other.prefixLength < subnet.prefixLength && other.contains(subnet.bytes)
            }
        }.sorted()
    }
}
