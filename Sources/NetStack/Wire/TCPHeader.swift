/// TCP header flag bits.
public struct TCPFlags: OptionSet, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let psh = TCPFlags(rawValue: 0x08)
    public static let ack = TCPFlags(rawValue: 0x10)
    public static let urg = TCPFlags(rawValue: 0x20)
}

/// The TCP options the stack understands (RFC 9293, RFC 7323, RFC 2018).
public struct TCPOptions: Hashable, Sendable {
    public var maximumSegmentSize: UInt16?
    public var windowScale: UInt8?
    public var sackPermitted = false
    /// TSval and TSecr; parsed but not used: we do not negotiate timestamps.
    public var timestamp: TCPTimestamp?

    public init() {}

    /// Parses an options area. Malformed option lengths end parsing (like Linux, the segment is
    /// still accepted with the options read so far).
    public init(parsing bytes: UnsafeRawBufferPointer) {
        var i = 0
        let n = bytes.count
        while i < n {
            let kind = bytes[i]
            if kind == 0 { break }
            if kind == 1 { i += 1; continue }
            guard i + 1 < n else { break }
            let length = Int(bytes[i + 1])
            guard length >= 2, i + length <= n else { break }
            switch (kind, length) {
            case (2, 4): maximumSegmentSize = readBE16(bytes, i + 2)
            case (3, 3): windowScale = bytes[i + 2]
            case (4, 2): sackPermitted = true
            case (8, 10): timestamp = TCPTimestamp(value: readBE32(bytes, i + 2), echoReply: readBE32(bytes, i + 6))
            default: break
            }
            i += length
        }
    }
}

/// The timestamps option (RFC 7323).
public struct TCPTimestamp: Hashable, Sendable {
    public var value: UInt32
    public var echoReply: UInt32
}

/// A validated TCP segment; `payload` points into the caller's buffer.
public struct TCPSegment {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: UInt32
    public var acknowledgmentNumber: UInt32
    public var flags: TCPFlags
    /// The raw (unscaled) window field.
    public var window: UInt16
    public var options: TCPOptions
    public var payload: UnsafeRawBufferPointer

    /// Parses `bytes` (the IP payload) and verifies the checksum against `pseudoHeaderSum`.
    public init(parsing bytes: UnsafeRawBufferPointer, pseudoHeaderSum: UInt64) throws(PacketError) {
        guard bytes.count >= 20 else { throw .truncated }
        let dataOffset = Int(bytes[12] >> 4) * 4
        guard dataOffset >= 20 else { throw .malformed }
        guard dataOffset <= bytes.count else { throw .truncated }
        guard InternetChecksum.verifies(bytes, initial: pseudoHeaderSum) else { throw .badChecksum }
        sourcePort = readBE16(bytes, 0)
        destinationPort = readBE16(bytes, 2)
        sequenceNumber = readBE32(bytes, 4)
        acknowledgmentNumber = readBE32(bytes, 8)
        flags = TCPFlags(rawValue: bytes[13] & 0x3f)
        window = readBE16(bytes, 14)
        options = dataOffset > 20
            ? TCPOptions(parsing: UnsafeRawBufferPointer(rebasing: bytes[20..<dataOffset])) : TCPOptions()
        payload = UnsafeRawBufferPointer(rebasing: bytes[dataOffset...])
    }
}
