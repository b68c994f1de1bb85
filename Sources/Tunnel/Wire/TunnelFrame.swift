import NIOCore

/// A stream's number on a multiplexed connection. 0 is the connection itself; the side that
/// opened the byte stream (the initiator) numbers its streams odd, the other side even.
public typealias TunnelStreamID = UInt32

/// One frame of the tunnel wire protocol (see `Sources/Tunnel/README.md` for the bytes).
public enum TunnelFrame: Equatable, Sendable {
    /// First frame each side sends: protocol version and the limits the sender grants its peer.
    case hello(TunnelHello)
    /// Asks the peer to dial `open.flow.destination`; may carry the connection's first bytes.
    case open(stream: TunnelStreamID, TunnelOpen)
    /// The dial succeeded; `window` is the dialer's receive window for this stream.
    case openOK(stream: TunnelStreamID, window: UInt32)
    /// The dial failed; the opener resets its local socket at once.
    case openFailed(stream: TunnelStreamID, reason: TunnelOpenFailure, message: String)
    /// Bytes of a TCP stream, counted against both flow-control windows.
    case data(stream: TunnelStreamID, ByteBuffer)
    /// Returns `increment` bytes of credit; stream 0 means the connection-level window.
    case windowUpdate(stream: TunnelStreamID, increment: UInt32)
    /// The sender will send no more bytes on this stream (TCP half-close).
    case fin(stream: TunnelStreamID)
    /// Abort the stream in both directions.
    case reset(stream: TunnelStreamID, reason: TunnelResetReason)
    /// Liveness probe; the peer answers with `pong` carrying the same opaque value.
    case ping(UInt64)
    case pong(UInt64)
    /// The sender will process no peer-opened stream above `lastStreamID`, and opens no more.
    case goAway(lastStreamID: TunnelStreamID, code: TunnelGoAwayCode, message: String)
    /// One UDP datagram; boundaries are preserved.
    case datagram(stream: TunnelStreamID, ByteBuffer)

    /// The stream a frame belongs to (0 for connection frames).
    public var streamID: TunnelStreamID {
        switch self {
        case .hello, .ping, .pong, .goAway: return 0
        case .open(let s, _), .openOK(let s, _), .openFailed(let s, _, _), .data(let s, _),
            .windowUpdate(let s, _), .fin(let s), .reset(let s, _), .datagram(let s, _):
            return s
        }
    }
}

/// The HELLO frame's contents.
public struct TunnelHello: Equatable, Sendable {
    /// The protocol version the sender speaks.
    public var version: UInt16
    /// The largest frame payload the sender accepts.
    public var maxFrameSize: UInt32
    /// The connection-level receive window the sender grants (bytes of DATA/DATAGRAM in flight).
    public var connectionWindow: UInt32

    public init(version: UInt16 = TunnelWire.version, maxFrameSize: UInt32, connectionWindow: UInt32) {
        self.version = version
        self.maxFrameSize = maxFrameSize
        self.connectionWindow = connectionWindow
    }
}

/// The OPEN frame's contents.
public struct TunnelOpen: Equatable, Sendable {
    /// What to dial (destination) and on whose behalf (source).
    public var flow: TunnelFlow
    /// The opener's receive window for this stream.
    public var window: UInt32
    /// How long the dialer may try, in milliseconds; 0 lets the dialer choose.
    public var dialTimeoutMilliseconds: UInt32
    /// The connection's first bytes, written once the dial succeeds (one round trip per connection).
    public var initialData: ByteBuffer
    /// The opener has nothing to send after `initialData` (a FIN rides along).
    public var fin: Bool

    public init(flow: TunnelFlow, window: UInt32, dialTimeoutMilliseconds: UInt32 = 0,
                initialData: ByteBuffer = ByteBuffer(), fin: Bool = false) {
        self.flow = flow
        self.window = window
        self.dialTimeoutMilliseconds = dialTimeoutMilliseconds
        self.initialData = initialData
        self.fin = fin
    }
}

/// Why a dial failed (OPEN_FAILED).
public enum TunnelOpenFailure: UInt8, Sendable, Equatable, CustomStringConvertible {
    case refused = 1
    case unreachable = 2
    case timeout = 3
    case prohibited = 4
    case internalError = 5

    public var description: String {
        switch self {
        case .refused: return "connection refused"
        case .unreachable: return "destination unreachable"
        case .timeout: return "dial timed out"
        case .prohibited: return "destination not allowed"
        case .internalError: return "dialer failed"
        }
    }
}

/// Why a stream was aborted (RST).
public enum TunnelResetReason: UInt8, Sendable, Equatable, CustomStringConvertible {
    /// The endpoint's socket was reset or failed.
    case connectionReset = 1
    /// The application abandoned the stream.
    case cancelled = 2
    /// The peer broke the stream's rules (e.g. DATA after FIN).
    case protocolError = 3
    /// The stream was idle for too long.
    case idleTimeout = 4
    /// The connection is going away.
    case goingAway = 5

    public var description: String {
        switch self {
        case .connectionReset: return "connection reset"
        case .cancelled: return "cancelled"
        case .protocolError: return "protocol error"
        case .idleTimeout: return "idle timeout"
        case .goingAway: return "tunnel going away"
        }
    }
}

/// Why a connection ends (GOAWAY).
public enum TunnelGoAwayCode: UInt8, Sendable, Equatable {
    case noError = 0
    case protocolError = 1
    case flowControlError = 2
    case frameTooLarge = 3
    case unsupportedVersion = 4
    case internalError = 5
}

/// Constants of the wire format.
public enum TunnelWire {
    /// "TPTN": the first four bytes of a HELLO payload.
    public static let magic: UInt32 = 0x5450_544E
    /// The only version this implementation speaks.
    public static let version: UInt16 = 1
    /// Frame header: length (4), type (1), flags (1), stream id (4).
    public static let headerSize = 10
    /// Frame payload limit before the peer's HELLO is known, and the smallest a peer may announce.
    public static let minimumMaxFrameSize: UInt32 = 16_384
    /// Hard ceiling on any announced frame payload limit.
    public static let maximumMaxFrameSize: UInt32 = 16 * 1024 * 1024
    /// Connection window assumed before the peer's HELLO arrives.
    public static let defaultConnectionWindow: UInt32 = 65_535
    /// Largest value any window may reach.
    public static let maximumWindow: Int = Int(Int32.max)

    /// Frame type codes.
    public enum FrameType: UInt8 {
        case hello = 0x00
        case open = 0x01
        case openOK = 0x02
        case openFailed = 0x03
        case data = 0x04
        case windowUpdate = 0x05
        case fin = 0x06
        case reset = 0x07
        case ping = 0x08
        case pong = 0x09
        case goAway = 0x0A
        case datagram = 0x0B
    }

    /// OPEN flag: no bytes follow the initial data.
    public static let flagFIN: UInt8 = 0x01
}
