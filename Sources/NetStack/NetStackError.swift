/// Why the stack refused an owner's call.
public enum NetStackError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection does not exist (it was reset, closed or never requested).
    case unknownConnection(FlowID)
    /// The owner already closed this connection for sending.
    case closedForSending(FlowID)
    /// The datagram does not fit in one packet at the configured MTU.
    case datagramTooLarge(FlowID, size: Int, maximum: Int)
    /// The flow's addresses are of two different families.
    case unsupportedAddressFamily(FlowID)

    public var description: String {
        switch self {
        case .unknownConnection(let id):
            "The connection \(id) no longer exists; stop sending on it and release what belongs to it."
        case .closedForSending(let id):
            "The connection \(id) was already closed for sending; do not send after close."
        case .datagramTooLarge(let id, let size, let maximum):
            "A \(size)-byte datagram for \(id) exceeds the \(maximum) bytes one packet carries; raise the TUN MTU or send less."
        case .unsupportedAddressFamily(let id):
            "The flow \(id) mixes IPv4 and IPv6 addresses; name both ends in one family."
        }
    }
}
