/// An IPv4 or IPv6 prefix such as `10.96.0.0/16`, used to decide which reverse (PTR) names belong
/// to the cluster.
public enum IPSubnet: Sendable, Hashable, CustomStringConvertible {
    case v4(IPv4Address, prefixLength: Int)
    case v6(IPv6Address, prefixLength: Int)

    /// Parses CIDR text (`10.96.0.0/16`, `fd00::/108`); nil when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), length >= 0 else { return nil }
        if let v4 = IPv4Address(String(parts[0])), length <= 32 {
            self = .v4(v4, prefixLength: length)
        } else if let v6 = IPv6Address(String(parts[0])), length <= 128 {
            self = .v6(v6, prefixLength: length)
        } else {
            return nil
        }
    }

    /// True when `address` lies inside this IPv4 subnet.
    public func contains(_ address: IPv4Address) -> Bool {
        guard case .v4(let base, let length) = self else { return false }
        let mask: UInt32 = length == 0 ? 0 : ~UInt32(0) << (32 - length)
        return address.value & mask == base.value & mask
    }

    /// True when `address` lies inside this IPv6 subnet.
    public func contains(_ address: IPv6Address) -> Bool {
        guard case .v6(let base, let length) = self else { return false }
        func mask(_ bits: Int) -> UInt64 {
            bits <= 0 ? 0 : bits >= 64 ? ~0 : ~UInt64(0) << (64 - bits)
        }
        let highMask = mask(length)
        let lowMask = mask(length - 64)
        return address.high & highMask == base.high & highMask && address.low & lowMask == base.low & lowMask
    }

    public var description: String {
        switch self {
        case .v4(let address, let length): return "\(address)/\(length)"
        case .v6(let address, let length): return "\(address)/\(length)"
        }
    }
}
