/// An IP address of either family: what a packet, a flow, a DNS answer or a route carries.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// The two address families, in the order their addresses sort.
    public enum Family: Sendable, Hashable, CustomStringConvertible {
        case v4, v6

        /// How many bits an address of this family has.
        public var bitWidth: Int { self == .v4 ? 32 : 128 }

        public var description: String { self == .v4 ? "IPv4" : "IPv6" }
    }

    /// Parses IPv4 dotted-quad or IPv6 text (as inet_pton does for either family).
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    /// An address from 4 or 16 bytes in network order; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        if let v4 = IPv4Address(bytes: bytes) {
            self = .v4(v4)
        } else if let v6 = IPv6Address(bytes: bytes) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var family: Family {
        switch self {
        case .v4: .v4
        case .v6: .v6
        }
    }

    /// Whether this is an IPv4 address.
    public var isV4: Bool { family == .v4 }

    /// The IPv4 address, if it is one.
    public var v4: IPv4Address? {
        if case .v4(let address) = self { address } else { nil }
    }

    /// The IPv6 address, if it is one.
    public var v6: IPv6Address? {
        if case .v6(let address) = self { address } else { nil }
    }

    /// 4 or 16 bytes in network order.
    public var bytes: [UInt8] {
        switch self {
        case .v4(let address): address.bytes
        case .v6(let address): address.bytes
        }
    }

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// IPv4 addresses sort before IPv6 ones; within a family, numerically.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): a < b
        case (.v6(let a), .v6(let b)): a < b
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}
