/// The fixed 12-byte header of a DNS message (RFC 1035 §4.1.1), without the section counts,
/// which the serializer derives from the sections.
public struct DNSHeader: Sendable, Hashable {
    /// Matches a response to its query.
    public var id: UInt16
    /// True in a response.
    public var isResponse: Bool
    /// The kind of query; 0 is a standard query.
    public var opcode: UInt8
    /// The server owns the zone of the answer.
    public var isAuthoritative: Bool
    /// The answer did not fit and was cut; the client should retry over TCP.
    public var isTruncated: Bool
    /// The client asks for recursion.
    public var recursionDesired: Bool
    /// The server offers recursion.
    public var recursionAvailable: Bool
    /// The reserved Z bit and the DNSSEC AD and CD bits, kept as received.
    public var zBits: UInt8
    /// The low four bits of the response code (EDNS carries the high bits).
    public var rcode: UInt8

    public init(
        id: UInt16, isResponse: Bool = false, opcode: UInt8 = 0, isAuthoritative: Bool = false,
        isTruncated: Bool = false, recursionDesired: Bool = true, recursionAvailable: Bool = false,
        zBits: UInt8 = 0, rcode: UInt8 = 0
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode & 0x0F
        self.isAuthoritative = isAuthoritative
        self.isTruncated = isTruncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.zBits = zBits & 0x07
        self.rcode = rcode & 0x0F
    }

    /// The 16 flag bits as on the wire.
    public var flags: UInt16 {
        var value: UInt16 = 0
        if isResponse { value |= 0x8000 }
        value |= UInt16(opcode & 0x0F) << 11
        if isAuthoritative { value |= 0x0400 }
        if isTruncated { value |= 0x0200 }
        if recursionDesired { value |= 0x0100 }
        if recursionAvailable { value |= 0x0080 }
        value |= UInt16(zBits & 0x07) << 4
        value |= UInt16(rcode & 0x0F)
        return value
    }

    init(id: UInt16, flags: UInt16) {
        self.init(
            id: id,
            isResponse: flags & 0x8000 != 0,
            opcode: UInt8((flags >> 11) & 0x0F),
            isAuthoritative: flags & 0x0400 != 0,
            isTruncated: flags & 0x0200 != 0,
            recursionDesired: flags & 0x0100 != 0,
            recursionAvailable: flags & 0x0080 != 0,
            zBits: UInt8((flags >> 4) & 0x07),
            rcode: UInt8(flags & 0x0F)
        )
    }
}

/// Response codes this server uses (RFC 1035 §4.1.1).
public enum DNSResponseCode: UInt8, Sendable {
    case noError = 0
    case formatError = 1
    case serverFailure = 2
    case nameError = 3
    case notImplemented = 4
    case refused = 5
}
