/// The states of a passively opened TCP connection (RFC 9293 §3.3.2, without LISTEN and
/// SYN-SENT since we never dial, and with TIME-WAIT skipped: see ``TCPConnection``).
public enum TCPState: Sendable, Hashable {
    /// A SYN arrived; the owner has not accepted or rejected it yet.
    case awaitingAccept
    case synReceived
    case established
    /// Our FIN is sent; the peer may still send.
    case finWait1
    /// Our FIN is acknowledged; waiting for the peer's.
    case finWait2
    /// Both sides sent FIN at once; waiting for the ACK of ours.
    case closing
    /// The peer sent FIN; we may still send.
    case closeWait
    /// The peer sent FIN, then we did; waiting for the ACK of ours.
    case lastAck
    case closed
}

extension TCPState {
    /// States in which the peer may still send us data.
    var receivesData: Bool {
        switch self {
        case .established, .finWait1, .finWait2: true
        default: false
        }
    }

    /// States in which segments of ours (data, FIN, retransmissions) may still be due.
    var sendsData: Bool {
        switch self {
        case .established, .closeWait, .finWait1, .closing, .lastAck: true
        default: false
        }
    }
}

/// A snapshot of one connection's negotiated parameters and counters.
public struct TCPConnectionInfo: Sendable, Hashable {
    public var state: TCPState
    /// The MSS we send with (the smaller of the peer's and ours).
    public var sendMSS: Int
    /// The MSS the peer announced (536 if it announced none).
    public var peerMSS: Int
    /// The shift we apply to the window we advertise; nil when scaling was not negotiated.
    public var receiveWindowScale: UInt8?
    /// The shift the peer applies to its window; nil when scaling was not negotiated.
    public var sendWindowScale: UInt8?
    /// The peer's current window in bytes.
    public var sendWindow: Int
    /// The window we last advertised, in bytes.
    public var receiveWindow: Int
    /// Bytes delivered to the owner and not yet consumed.
    public var unconsumed: Int
    /// Bytes accepted by `send` and not yet acknowledged by the peer.
    public var unacknowledged: Int
    public var smoothedRTT: UInt64?
    public var retransmissionTimeout: UInt64
    public var retransmissions: Int
}
