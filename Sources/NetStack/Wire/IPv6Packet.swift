import NetworkAddress

/// A validated IPv6 packet without extension headers (the kernel sends none for ordinary TCP
/// and UDP); `payload` points into the caller's buffer.
public struct IPv6Packet {
    public var source: IPv6Address
    public var destination: IPv6Address
    public var nextHeader: UInt8
    public var hopLimit: UInt8
    public var payload: UnsafeRawBufferPointer

    public init(parsing bytes: UnsafeRawBufferPointer) throws(PacketError) {
        guard bytes.count >= 40 else { throw .truncated }
        guard bytes[0] >> 4 == 6 else { throw .malformed }
        let payloadLength = Int(readBE16(bytes, 4))
        guard payloadLength > 0 else { throw .malformed }  // 0 would mean a jumbogram
        guard bytes.count >= 40 + payloadLength else { throw .truncated }
        nextHeader = bytes[6]
        switch nextHeader {
        case 0, 43, 60: throw .unsupported  // hop-by-hop, routing, destination options
        case 44: throw .fragment
        default: break
        }
        hopLimit = bytes[7]
        source = IPv6Address(high: readBE64(bytes, 8), low: readBE64(bytes, 16))
        destination = IPv6Address(high: readBE64(bytes, 24), low: readBE64(bytes, 32))
        payload = UnsafeRawBufferPointer(rebasing: bytes[40..<(40 + payloadLength)])
    }
}

@inlinable
func readBE64(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt64 {
    UInt64(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
}

@inlinable
func writeBE64(_ p: UnsafeMutableRawBufferPointer, _ offset: Int, _ value: UInt64) {
    p.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
}
