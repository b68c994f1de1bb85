import NIOCore
import NetworkAddress

/// One end of a flow.
public struct TunnelEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// 4 or 16 bytes in OPEN, network order.
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// The IP and port of a socket address (nil for Unix sockets).
    public init?(_ address: SocketAddress) {
        guard let port = address.port else { return nil }
        switch address {
        case .v4(let a):
            self.init(address: .v4(IPv4Address(UInt32(bigEndian: a.address.sin_addr.s_addr))), port: UInt16(port))
        case .v6(let a):
            var raw = a.address.sin6_addr
            guard let ip = withUnsafeBytes(of: &raw, { IPv6Address(bytes: $0) }) else { return nil }
            self.init(address: .v6(ip), port: UInt16(port))
        case .unixDomainSocket:
            return nil
        }
    }

    /// The unspecified address of `family` and port 0: the source of a flow whose real one
    /// is unknown or of the other family.
    public static func unspecified(_ family: IPAddress.Family) -> TunnelEndpoint {
        TunnelEndpoint(address: family == .v4 ? .v4(.any) : .v6(.any), port: 0)
    }

    /// The socket address to dial.
    public func socketAddress() throws -> SocketAddress {
        try SocketAddress(packedIPAddress: ByteBuffer(bytes: address.bytes), port: Int(port))
    }

    public var description: String {
        address.isV4 ? "\(address):\(port)" : "[\(address)]:\(port)"
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
        precondition(source.address.isV4 == destination.address.isV4, "a flow's ends share one IP family")
        self.transport = transport
        self.source = source
        self.destination = destination
    }

    public var description: String {
        "\(transport == .tcp ? "tcp" : "udp") \(source) -> \(destination)"
    }
}
