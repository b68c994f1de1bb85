/// One SPDY/3.1 frame as kubectl port-forward and SPDY exec use it.
///
/// Stream ids and window deltas are 31-bit on the wire; the encoder rejects larger values.
public enum SPDYFrame: Hashable, Sendable {
    /// Stream payload; `fin` half-closes the sender's side.
    case data(streamID: UInt32, fin: Bool, payload: [UInt8])
    /// Opens a stream (type 1).
    case synStream(SPDYSynStream)
    /// Accepts a stream (type 2).
    case synReply(streamID: UInt32, fin: Bool, headers: SPDYHeaders)
    /// Aborts a stream (type 3).
    case rstStream(streamID: UInt32, status: SPDYStreamStatus)
    /// Connection settings (type 4); `clearSettings` is flag 0x01.
    case settings(clearSettings: Bool, entries: [SPDYSetting])
    /// Liveness probe (type 6); the receiver echoes the id.
    case ping(id: UInt32)
    /// Ends the session (type 7).
    case goAway(lastGoodStreamID: UInt32, status: SPDYGoAwayStatus)
    /// More headers on an open stream (type 8).
    case headers(streamID: UInt32, fin: Bool, headers: SPDYHeaders)
    /// Grants `delta` more bytes of send window on a stream (type 9; stream 0 in SPDY/3.1 is the session).
    case windowUpdate(streamID: UInt32, delta: UInt32)
}

/// The control frame type numbers of SPDY/3.1.
public enum SPDYControlType: UInt16, Sendable {
    case synStream = 1, synReply = 2, rstStream = 3, settings = 4, ping = 6, goAway = 7, headers = 8, windowUpdate = 9
}

/// The fields of a SYN_STREAM frame.
public struct SPDYSynStream: Hashable, Sendable {
    public var streamID: UInt32
    public var associatedStreamID: UInt32
    /// 0 (highest) to 7.
    public var priority: UInt8
    public var slot: UInt8
    public var fin: Bool
    public var unidirectional: Bool
    public var headers: SPDYHeaders

    public init(streamID: UInt32, associatedStreamID: UInt32 = 0, priority: UInt8 = 0, slot: UInt8 = 0,
                fin: Bool = false, unidirectional: Bool = false, headers: SPDYHeaders) {
        self.streamID = streamID
        self.associatedStreamID = associatedStreamID
        self.priority = priority
        self.slot = slot
        self.fin = fin
        self.unidirectional = unidirectional
        self.headers = headers
    }
}

/// One SETTINGS entry: 8 flag bits, a 24-bit id, a 32-bit value.
public struct SPDYSetting: Hashable, Sendable {
    public var flags: UInt8
    public var id: UInt32
    public var value: UInt32

    public init(flags: UInt8 = 0, id: UInt32, value: UInt32) {
        self.flags = flags
        self.id = id
        self.value = value
    }

    /// SETTINGS_INITIAL_WINDOW_SIZE.
    public static let initialWindowSizeID: UInt32 = 7
}

/// RST_STREAM status codes; unknown values are kept as they are.
public struct SPDYStreamStatus: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let protocolError = Self(rawValue: 1)
    public static let invalidStream = Self(rawValue: 2)
    public static let refusedStream = Self(rawValue: 3)
    public static let unsupportedVersion = Self(rawValue: 4)
    public static let cancel = Self(rawValue: 5)
    public static let internalError = Self(rawValue: 6)
    public static let flowControlError = Self(rawValue: 7)
    public static let streamInUse = Self(rawValue: 8)
    public static let streamAlreadyClosed = Self(rawValue: 9)
    public static let frameTooLarge = Self(rawValue: 11)
}

/// GOAWAY status codes; unknown values are kept as they are.
public struct SPDYGoAwayStatus: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let ok = Self(rawValue: 0)
    public static let protocolError = Self(rawValue: 1)
    public static let internalError = Self(rawValue: 2)
}
