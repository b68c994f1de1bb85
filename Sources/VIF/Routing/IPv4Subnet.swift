import NetStack

/// An IPv4 network in CIDR form (`10.96.0.0/16`), always normalized: host bits are zero.
/// IPv6 routing will get its own type beside it; the planner works per family.
public struct IPv4Subnet: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let network: IPv4Address
    public let prefixLength: Int

    /// The subnet of `address` with the host bits cleared.
    public init(_ address: IPv4Address, prefixLength: Int) {
        precondition((0...32).contains(prefixLength), "an IPv4 prefix length is 0...32")
        self.prefixLength = prefixLength
        self.network = IPv4Address(address.value & Self.mask(prefixLength))
    }

    /// Parses `A.B.C.D/N` (or a bare address, as /32). Host bits are cleared, as `ip route`
    /// would refuse them and users often write the address of a host with its prefix.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPv4Address(parts[0]) else { return nil }
        var prefix = 32
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 2, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(parts[1]),
                  (0...32).contains(n)
            else { return nil }
            prefix = n
        }
        self.init(address, prefixLength: prefix)
    }

    static func mask(_ prefixLength: Int) -> UInt32 {
        prefixLength == 0 ? 0 : ~UInt32(0) << UInt32(32 - prefixLength)
    }

    public var mask: UInt32 { Self.mask(prefixLength) }
    /// The last address of the subnet.
    public var last: IPv4Address { IPv4Address(network.value | ~mask) }
    /// How many addresses it spans.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

    /// Whether every address of `other` is in this subnet.
    public func contains(_ other: IPv4Subnet) -> Bool {
        other.prefixLength >= prefixLength && contains(other.network)
    }

    /// CIDR blocks either nest or are disjoint, so overlapping means one contains the other.
    public func overlaps(_ other: IPv4Subnet) -> Bool { contains(other) || other.contains(self) }

    /// The addresses of this subnet not in `other`, as the fewest CIDR blocks (at most one per
    /// prefix length between the two): walk from this block down towards `other`, keeping the
    /// sibling half at every step.
    public func subtracting(_ other: IPv4Subnet) -> [IPv4Subnet] {
        guard overlaps(other) else { return [self] }
        guard !other.contains(self) else { return [] }
        var result: [IPv4Subnet] = []
        var current = self
        while current.prefixLength < other.prefixLength {
            let lower = IPv4Subnet(current.network, prefixLength: current.prefixLength + 1)
            let upper = IPv4Subnet(IPv4Address(current.network.value | (UInt32(1) << UInt32(31 - current.prefixLength))),
                                   prefixLength: current.prefixLength + 1)
            if lower.contains(other.network) {
                result.append(upper)
                current = lower
            } else {
                result.append(lower)
                current = upper
            }
        }
        return result.sorted()
    }

    public var description: String { "\(network)/\(prefixLength)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.network, lhs.prefixLength) < (rhs.network, rhs.prefixLength)
    }
}

extension Array where Element == IPv4Subnet {
    /// The same addresses with blocks inside other blocks dropped, sorted.
    public func withoutNested() -> [IPv4Subnet] {
        let sorted = Set(self).sorted { ($0.prefixLength, $0.network) < ($1.prefixLength, $1.network) }
        var kept: [IPv4Subnet] = []
        for subnet in sorted where !kept.contains(where: { $0.contains(subnet) }) { kept.append(subnet) }
        return kept.sorted()
    }
}
