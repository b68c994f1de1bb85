/// Counters of what the stack saw and did, for logs and tests.
public struct NetStackStatistics: Sendable, Hashable {
    public var packetsReceived = 0
    public var packetsSent = 0
    public var truncated = 0
    public var malformed = 0
    public var badChecksum = 0
    public var fragmentsDropped = 0
    public var unsupportedDropped = 0
    public var resetsSent = 0
    public var retransmittedSegments = 0
    public var fastRetransmits = 0
    public var retransmissionTimeouts = 0
    public var outOfOrderSegments = 0
    public var outOfOrderDropped = 0
    public var echoRepliesSent = 0
    public var connectionsRefused = 0

    public init() {}

    mutating func count(_ error: PacketError) {
        switch error {
        case .truncated: truncated += 1
        case .malformed: malformed += 1
        case .badChecksum: badChecksum += 1
        case .fragment: fragmentsDropped += 1
        case .unsupported: unsupportedDropped += 1
        }
    }
}
