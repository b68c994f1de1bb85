/// An IPv4 address held as a host-order 32-bit value (10.0.0.1 is 0x0A00_0001).
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The address in host byte order.
    public var value: UInt32

    /// An address from its host-order value.
    public init(_ value: UInt32) { self.value = value }

    /// An address from its four dotted-quad parts.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// Parses dotted-quad text such as "10.96.0.1"; nil when it is not exactly that.
    public init?(_ text: some StringProtocol) {
        var parts: [UInt32] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.count <= 3, let n = UInt32(part), n <= 255 else { return nil }
            parts.append(n)
        }
        guard parts.count == 4 else { return nil }
        value = parts[0] << 24 | parts[1] << 16 | parts[2] << 8 | parts[3]
    }

    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
}

/// An IPv6 address as two host-order 64-bit halves. Parsing and packets come later; the type
/// exists now so flows and tables are keyed by an address that can hold both families.
public struct IPv6Address: Hashable, Sendable, CustomStringConvertible {
    /// The first (most significant) 64 bits.
    public var high: UInt64
    /// The last 64 bits.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public var description: String {
        let groups = (0..<8).map { i -> String in
            let half = i < 4 ? high : low
            return String(UInt16(truncatingIfNeeded: half >> (UInt64(3 - i % 4) * 16)), radix: 16)
        }
        return groups.joined(separator: ":")
    }
}

/// An IP address of either family.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses IPv4 dotted-quad text (IPv6 text is not parsed yet).
    public init?(_ text: some StringProtocol) {
        guard let v4 = IPv4Address(text) else { return nil }
        self = .v4(v4)
    }

    /// Whether this is an IPv4 address.
    public var isV4: Bool {
        if case .v4 = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .v4(let a): a.description
        case .v6(let a): a.description
        }
    }
}
