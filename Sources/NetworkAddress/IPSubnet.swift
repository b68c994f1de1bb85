/// An IPv4 or IPv6 network in CIDR form (`10.96.0.0/12`, `fd00:10:96::/108`), always
/// normalized: the host bits of `address` are zero.
public struct IPSubnet: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The network's first address (host bits cleared).
    public let address: IPAddress
    /// How many leading bits are the network's: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// The subnet of `address` with its host bits cleared.
    public init(_ address: IPAddress, prefixLength: Int) {
        precondition((0...address.family.bitWidth).contains(prefixLength),
                     "an \(address.family) prefix length is 0...\(address.family.bitWidth)")
        self.prefixLength = prefixLength
        self.address = Self.address(Self.bits(address) & Self.mask(prefixLength), family: address.family)
    }

    /// The IPv4 subnet of `address`.
    public init(_ address: IPv4Address, prefixLength: Int) {
        self.init(.v4(address), prefixLength: prefixLength)
    }

    /// The IPv6 subnet of `address`.
    public init(_ address: IPv6Address, prefixLength: Int) {
        self.init(.v6(address), prefixLength: prefixLength)
    }

    /// The single-address subnet of `address` (/32 or /128).
    public init(host address: IPAddress) {
        self.init(address, prefixLength: address.family.bitWidth)
    }

    /// Parses CIDR text `ADDRESS/N`; host bits are cleared, as users often write a host's
    /// address with its network's prefix. Nil unless it is exactly that (see
    /// `init(addressOrCIDR:)` for a bare address).
    public init?(_ text: some StringProtocol) {
        guard let slash = text.firstIndex(of: "/") else { return nil }
        let lengthText = text[text.index(after: slash)...]
        guard let address = IPAddress(text[..<slash]), !lengthText.isEmpty, lengthText.count <= 3,
              lengthText.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let length = Int(lengthText), length <= address.family.bitWidth
        else { return nil }
        self.init(address, prefixLength: length)
    }

    /// Parses CIDR text, or a bare address as the subnet of that one address (how `ip route`
    /// and Telepresence's `--also-proxy` read it).
    public init?(addressOrCIDR text: some StringProtocol) {
        if text.contains("/") {
            self.init(text)
        } else if let address = IPAddress(text) {
            self.init(host: address)
        } else {
            return nil
        }
    }

    public var family: IPAddress.Family { address.family }

    /// The last address of the subnet.
    public var last: IPAddress {
        Self.address(Self.bits(address) | ~Self.mask(prefixLength), family: family)
    }

    /// The IPv4 netmask (255.255.0.0 for a /16); nil for IPv6.
    public var ipv4Mask: IPv4Address? {
        family == .v4 ? IPv4Address(UInt32(truncatingIfNeeded: Self.mask(prefixLength) >> 96)) : nil
    }

    /// Whether `address` lies in this subnet (never for the other family).
    public func contains(_ address: IPAddress) -> Bool {
        address.family == family && Self.bits(address) & Self.mask(prefixLength) == Self.bits(self.address)
    }

    public func contains(_ address: IPv4Address) -> Bool { contains(.v4(address)) }

    public func contains(_ address: IPv6Address) -> Bool { contains(.v6(address)) }

    /// Whether every address of `other` is in this subnet.
    public func contains(_ other: IPSubnet) -> Bool {
        other.prefixLength >= prefixLength && contains(other.address)
    }

    /// CIDR blocks either nest or are disjoint, so overlapping means one contains the other.
    public func overlaps(_ other: IPSubnet) -> Bool { contains(other) || other.contains(self) }

    /// The addresses of this subnet not in `other`, as the fewest CIDR blocks (at most one per
    /// prefix length between the two), sorted: walk from this block down towards `other`,
    /// keeping the sibling half at every step.
    public func subtracting(_ other: IPSubnet) -> [IPSubnet] {
        guard overlaps(other) else { return [self] }
        guard !other.contains(self) else { return [] }
        var result: [IPSubnet] = []
        var current = self
        while current.prefixLength < other.prefixLength {
            let length = current.prefixLength + 1
            let lower = IPSubnet(current.address, prefixLength: length)
            let upperBits = Self.bits(current.address) | (UInt128(1) << UInt128(127 - current.prefixLength))
            let upper = IPSubnet(Self.address(upperBits, family: family), prefixLength: length)
            if lower.contains(other.address) {
                result.append(upper)
                current = lower
            } else {
                result.append(lower)
                current = upper
            }
        }
        return result.sorted()
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// By family (IPv4 first), then address, then prefix length.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.address != rhs.address { return lhs.address < rhs.address }
        return lhs.prefixLength < rhs.prefixLength
    }

    /// The address as 128 bits, left-aligned (an IPv4 address fills the top 32), so one mask
    /// serves both families.
    private static func bits(_ address: IPAddress) -> UInt128 {
        switch address {
        case .v4(let a): UInt128(a.value) << 96
        case .v6(let a): UInt128(a.high) << 64 | UInt128(a.low)
        }
    }

    private static func address(_ bits: UInt128, family: IPAddress.Family) -> IPAddress {
        switch family {
        case .v4: .v4(IPv4Address(UInt32(truncatingIfNeeded: bits >> 96)))
        case .v6: .v6(IPv6Address(high: UInt64(truncatingIfNeeded: bits >> 64), low: UInt64(truncatingIfNeeded: bits)))
        }
    }

    private static func mask(_ prefixLength: Int) -> UInt128 {
        prefixLength == 0 ? 0 : ~UInt128(0) << UInt128(128 - prefixLength)
    }
}

extension Sequence where Element == IPSubnet {
    /// The same addresses with blocks inside other blocks dropped, sorted.
    public func withoutNested() -> [IPSubnet] {
        let widestFirst = Set(self).sorted { ($0.prefixLength, $0) < ($1.prefixLength, $1) }
        var kept: [IPSubnet] = []
        for subnet in widestFirst where !kept.contains(where: { $0.contains(subnet) }) { kept.append(subnet) }
        return kept.sorted()
    }
}
