/// A violation of the tunnel protocol by the peer, or a limit it exceeded. Each one ends the
/// multiplexed connection: the handler sends GOAWAY with `goAwayCode` and closes.
public enum TunnelProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The first frame was not a HELLO, or the HELLO's magic was wrong: the peer is not a tunnel.
    case notATunnel
    /// The peer speaks a version this build does not.
    case unsupportedVersion(UInt16)
    /// A frame's payload is larger than the limit this side announced.
    case frameTooLarge(length: UInt32, limit: UInt32)
    /// A frame type code this version does not know.
    case unknownFrameType(UInt8)
    /// A frame whose payload does not match its type's layout.
    case malformedFrame(type: UInt8, reason: String)
    /// A frame for a stream that was never opened.
    case unknownStream(TunnelStreamID)
    /// An OPEN with an id of the wrong parity, not above the previous one, or reused.
    case invalidStreamID(TunnelStreamID)
    /// A WINDOW_UPDATE would push a window above 2^31-1.
    case windowOverflow(TunnelStreamID)
    /// DATA beyond the window this side granted.
    case flowControlViolation(TunnelStreamID)
    /// A frame that the stream's state forbids (e.g. DATA after FIN, a second OPEN_OK).
    case unexpectedFrame(stream: TunnelStreamID, frame: String)
    /// The peer sent HELLO twice.
    case duplicateHello

    /// The GOAWAY code that reports this error to the peer.
    public var goAwayCode: TunnelGoAwayCode {
        switch self {
        case .frameTooLarge: return .frameTooLarge
        case .unsupportedVersion: return .unsupportedVersion
        case .windowOverflow, .flowControlViolation: return .flowControlError
        default: return .protocolError
        }
    }

    public var description: String {
        let fix = "the tunnel was closed; reconnect, and if it recurs make sure both sides run the same Telepresence version"
        switch self {
        case .notATunnel:
            return "The peer did not start with a tunnel HELLO (is the port-forward pointing at the traffic-manager's tunnel port?); \(fix)."
        case .unsupportedVersion(let v):
            return "The peer speaks tunnel protocol version \(v), this build speaks \(TunnelWire.version); upgrade the older side."
        case .frameTooLarge(let length, let limit):
            return "The peer sent a \(length)-byte frame, more than the announced limit of \(limit); \(fix)."
        case .unknownFrameType(let t):
            return "The peer sent unknown frame type \(t); \(fix)."
        case .malformedFrame(let t, let reason):
            return "The peer sent a malformed frame of type \(t) (\(reason)); \(fix)."
        case .unknownStream(let s):
            return "The peer sent a frame for stream \(s), which was never opened; \(fix)."
        case .invalidStreamID(let s):
            return "The peer opened stream \(s) with an invalid id; \(fix)."
        case .windowOverflow(let s):
            return "The peer's window update overflowed the window of stream \(s); \(fix)."
        case .flowControlViolation(let s):
            return "The peer sent more data on stream \(s) than its window allowed; \(fix)."
        case .unexpectedFrame(let s, let frame):
            return "The peer sent \(frame) on stream \(s) in a state that forbids it; \(fix)."
        case .duplicateHello:
            return "The peer sent its HELLO twice; \(fix)."
        }
    }
}
