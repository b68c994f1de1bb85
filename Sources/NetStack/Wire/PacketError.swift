/// Why an incoming packet was dropped. Counted in ``NetStackStatistics``; never fatal.
public enum PacketError: Error, Hashable, Sendable {
    /// Shorter than its headers or its length fields claim.
    case truncated
    /// A header field is out of range (version, header length, data offset, length).
    case malformed
    /// The IPv4 header, TCP or UDP checksum does not verify.
    case badChecksum
    /// An IPv4 fragment; fragments are not reassembled (the TUN's MTU makes them rare).
    case fragment
    /// A protocol the stack does not terminate.
    case unsupported
}

@inlinable
func readBE16(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
    UInt16(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

@inlinable
func readBE32(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
    UInt32(bigEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
}

@inlinable
func writeBE16(_ p: UnsafeMutableRawBufferPointer, _ offset: Int, _ value: UInt16) {
    p.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
}

@inlinable
func writeBE32(_ p: UnsafeMutableRawBufferPointer, _ offset: Int, _ value: UInt32) {
    p.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
}
