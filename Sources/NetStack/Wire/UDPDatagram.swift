/// A validated UDP datagram; `payload` points into the caller's buffer.
public struct UDPDatagram {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var payload: UnsafeRawBufferPointer

    /// Parses `bytes` (the IP payload); a zero checksum means "none" (IPv4 only).
    public init(parsing bytes: UnsafeRawBufferPointer, pseudoHeaderSum: UInt64) throws(PacketError) {
        guard bytes.count >= 8 else { throw .truncated }
        let length = Int(readBE16(bytes, 4))
        guard length >= 8 else { throw .malformed }
        guard length <= bytes.count else { throw .truncated }
        let datagram = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
        if readBE16(bytes, 6) != 0 {
            guard InternetChecksum.verifies(datagram, initial: pseudoHeaderSum) else { throw .badChecksum }
        }
        sourcePort = readBE16(bytes, 0)
        destinationPort = readBE16(bytes, 2)
        payload = UnsafeRawBufferPointer(rebasing: datagram[8...])
    }
}
