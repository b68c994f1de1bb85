import NetworkAddress

/// A validated IPv4 packet: header fields plus a view of its payload. Parsing copies nothing;
/// the payload points into the caller's buffer and is valid only as long as that buffer.
public struct IPv4Packet {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var protocolNumber: UInt8
    public var ttl: UInt8
    /// The transport header and data (bounded by the total length, not the buffer size).
    public var payload: UnsafeRawBufferPointer

    /// Parses and validates: version, header length, total length, header checksum; refuses
    /// fragments.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(PacketError) {
        guard bytes.count >= 20 else { throw .truncated }
        let versionIHL = bytes[0]
        guard versionIHL >> 4 == 4 else { throw .malformed }
        let headerLength = Int(versionIHL & 0x0f) * 4
        guard headerLength >= 20 else { throw .malformed }
        guard bytes.count >= headerLength else { throw .truncated }
        let totalLength = Int(readBE16(bytes, 2))
        guard totalLength >= headerLength else { throw .malformed }
        guard bytes.count >= totalLength else { throw .truncated }
        guard InternetChecksum.verifies(UnsafeRawBufferPointer(rebasing: bytes[0..<headerLength])) else {
            throw .badChecksum
        }
        let flagsFragment = readBE16(bytes, 6)
        // More-fragments set or a non-zero offset: part of a fragmented datagram.
        guard flagsFragment & 0x3fff == 0 else { throw .fragment }
        ttl = bytes[8]
        protocolNumber = bytes[9]
        source = IPv4Address(readBE32(bytes, 12))
        destination = IPv4Address(readBE32(bytes, 16))
        payload = UnsafeRawBufferPointer(rebasing: bytes[headerLength..<totalLength])
    }
}
