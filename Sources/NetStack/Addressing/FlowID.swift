import NetworkAddress

/// The transport protocols the stack terminates.
public enum TransportProtocol: UInt8, Hashable, Sendable {
    case tcp = 6
    case udp = 17
}

/// One TCP connection or UDP flow, named from the workstation's side: `source` is the local
/// program's address and port, `destination` the routed (cluster) address it dialled.
public struct FlowID: Hashable, Sendable, CustomStringConvertible {
    public var transport: TransportProtocol
    public var source: IPAddress
    public var sourcePort: UInt16
    public var destination: IPAddress
    public var destinationPort: UInt16

    public init(
        _ transport: TransportProtocol,
        source: IPAddress, sourcePort: UInt16,
        destination: IPAddress, destinationPort: UInt16
    ) {
        self.transport = transport
        self.source = source
        self.sourcePort = sourcePort
        self.destination = destination
        self.destinationPort = destinationPort
    }

    public var description: String {
        "\(transport) \(source):\(sourcePort) -> \(destination):\(destinationPort)"
    }
}
