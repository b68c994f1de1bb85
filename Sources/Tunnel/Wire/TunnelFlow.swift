import NIOCore

/// An IP address as carried in OPEN: 4 or 16 bytes, network order.
public enum TunnelIPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(high: UInt64, low: UInt64)

    /// Parses dotted IPv4 or textual IPv6 (as `SocketAddress` accepts it).
    public init?(_ text: String) {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        self.init(address)
    }

    /// The IP of a socket address (nil for Unix sockets).
    public init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a):
            self = .v4(UInt32(bigEndian: a.address.sin_addr.s_addr))
        case .v6(let a):
            var bytes = a.address.sin6_addr
            let (high, low) = withUnsafeBytes(of: &bytes) { raw -> (UInt64, UInt64) in
                var h: UInt64 = 0
                var l: UInt64 = 0
                for i in 0..<8 { h = h << 8 | UInt64(raw[i]) }
                for i in 8..<16 { l = l << 8 | UInt64(raw[i]) }
                return (h, l)
            }
            self = .v6(high: high, low: low)
        case .unixDomainSocket:
            return nil
        }
    }

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }

    public var description: String {
        switch self {
        case .v4(let a):
            return "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF)"
        case .v6(let high, let low):
            var groups: [String] = []
            for i in stride(from: 48, through: 0, by: -16) { groups.append(String(high >> UInt64(i) & 0xFFFF, radix: 16)) }
            for i in stride(from: 48, through: 0, by: -16) { groups.append(String(low >> UInt64(i) & 0xFFFF, radix: 16)) }
            return groups.joined(separator: ":")
        }
    }

    /// The socket address to dial.
    public func socketAddress(port: UInt16) throws -> SocketAddress {
        try SocketAddress(ipAddress: description, port: Int(port))
    }
}

/// One end of a flow.
public struct TunnelEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var address: TunnelIPAddress
    public var port: UInt16

    public init(address: TunnelIPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    public var description: String {
        address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)"
    }
}

/// What a stream carries: a TCP connection or a UDP flow, from `source` (the workstation's
/// socket) to `destination` (what the dialer connects to).
public struct TunnelFlow: Hashable, Sendable, CustomStringConvertible {
    public enum Transport: UInt8, Sendable {
        case tcp = 6
        case udp = 17
    }

    public var transport: Transport
    public var source: TunnelEndpoint
    public var destination: TunnelEndpoint

    /// Both ends must be of the same IP family (the wire carries the family once).
    public init(transport: Transport, source: TunnelEndpoint, destination: TunnelEndpoint) {
        precondition(source.address.isIPv4 == destination.address.isIPv4, "a flow's ends share one IP family")
        self.transport = transport
        self.source = source
        self.destination = destination
    }

    public var description: String {
        "\(transport == .tcp ? "tcp" : "udp") \(source) -> \(destination)"
    }
}
