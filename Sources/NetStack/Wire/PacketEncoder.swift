import NetworkAddress

/// Builds outgoing IPv4 packets in one buffer that is allocated once and reused, so emitting a
/// packet allocates nothing. The packet handed out is valid until the next one is built.
final class PacketEncoder {
    private let buffer: UnsafeMutableRawBufferPointer
    private var identification: UInt16 = 0

    init(maximumPacketSize: Int) {
        buffer = .allocate(byteCount: max(maximumPacketSize, 128), alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { buffer.deallocate() }

    /// Writes the IP header of the addresses' family; returns its length and the transport
    /// pseudo-header sum.
    private func writeIPHeader(
        source: IPAddress, destination: IPAddress, protocol proto: UInt8, payloadLength: Int
    ) -> (length: Int, pseudo: UInt64) {
        switch (source, destination) {
        case (.v4(let s), .v4(let d)):
            let length = writeIPv4Header(source: s, destination: d, protocol: proto, payloadLength: payloadLength)
            return (length, InternetChecksum.pseudoHeaderV4(source: s, destination: d, protocol: proto, length: payloadLength))
        case (.v6(let s), .v6(let d)):
            buffer.storeBytes(of: UInt32(0x6000_0000).bigEndian, toByteOffset: 0, as: UInt32.self)
            writeBE16(buffer, 4, UInt16(payloadLength))
            buffer[6] = proto
            buffer[7] = 64
            writeBE64(buffer, 8, s.high)
            writeBE64(buffer, 16, s.low)
            writeBE64(buffer, 24, d.high)
            writeBE64(buffer, 32, d.low)
            return (40, InternetChecksum.pseudoHeaderV6(source: s, destination: d, nextHeader: proto, length: payloadLength))
        default:
            preconditionFailure("a flow's addresses are of one family")
        }
    }

    /// Writes the IPv4 header for `payloadLength` transport bytes; returns the header length.
    private func writeIPv4Header(
        source: IPv4Address, destination: IPv4Address, protocol proto: UInt8, payloadLength: Int
    ) -> Int {
        let total = 20 + payloadLength
        buffer[0] = 0x45
        buffer[1] = 0
        writeBE16(buffer, 2, UInt16(total))
        identification &+= 1
        writeBE16(buffer, 4, identification)
        writeBE16(buffer, 6, 0x4000)  // don't fragment
        buffer[8] = 64
        buffer[9] = proto
        buffer.storeBytes(of: 0, toByteOffset: 10, as: UInt16.self)
        writeBE32(buffer, 12, source.value)
        writeBE32(buffer, 16, destination.value)
        let sum = InternetChecksum.add(UnsafeRawBufferPointer(rebasing: buffer[0..<20]))
        buffer.storeBytes(of: InternetChecksum.finish(sum), toByteOffset: 10, as: UInt16.self)
        return 20
    }

    /// A TCP segment from `source` to `destination`. `fill` writes `payloadLength` bytes into the
    /// region it is given.
    func tcp(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        sequence: UInt32, acknowledgment: UInt32, flags: TCPFlags, window: UInt16,
        mss: UInt16? = nil, windowScale: UInt8? = nil,
        payloadLength: Int = 0, fill: (UnsafeMutableRawBufferPointer) -> Void = { _ in }
    ) -> UnsafeRawBufferPointer {
        let optionsLength = (mss != nil ? 4 : 0) + (windowScale != nil ? 4 : 0)
        let tcpHeaderLength = 20 + optionsLength
        let tcpLength = tcpHeaderLength + payloadLength
        let (ip, pseudo) = writeIPHeader(source: source, destination: destination, protocol: 6, payloadLength: tcpLength)
        let t = UnsafeMutableRawBufferPointer(rebasing: buffer[ip..<(ip + tcpLength)])
        writeBE16(t, 0, sourcePort)
        writeBE16(t, 2, destinationPort)
        writeBE32(t, 4, sequence)
        writeBE32(t, 8, acknowledgment)
        t[12] = UInt8(tcpHeaderLength / 4) << 4
        t[13] = flags.rawValue
        writeBE16(t, 14, window)
        t.storeBytes(of: 0, toByteOffset: 16, as: UInt32.self)  // checksum, urgent pointer
        var o = 20
        if let mss {
            t[o] = 2; t[o + 1] = 4; writeBE16(t, o + 2, mss); o += 4
        }
        if let windowScale {
            t[o] = 1; t[o + 1] = 3; t[o + 2] = 3; t[o + 3] = windowScale; o += 4
        }
        if payloadLength > 0 { fill(UnsafeMutableRawBufferPointer(rebasing: t[tcpHeaderLength...])) }
        let sum = InternetChecksum.add(UnsafeRawBufferPointer(t), to: pseudo)
        t.storeBytes(of: InternetChecksum.finish(sum), toByteOffset: 16, as: UInt16.self)
        return UnsafeRawBufferPointer(rebasing: buffer[0..<(ip + tcpLength)])
    }

    /// A UDP datagram carrying `payload` (truncated to fit the buffer).
    func udp(
        source: IPAddress, sourcePort: UInt16, destination: IPAddress, destinationPort: UInt16,
        payload: UnsafeRawBufferPointer
    ) -> UnsafeRawBufferPointer {
        let headers = 8 + (source.isV4 ? 20 : 40)
        let length = min(payload.count, buffer.count - headers)
        let udpLength = 8 + length
        let (ip, pseudo) = writeIPHeader(source: source, destination: destination, protocol: 17, payloadLength: udpLength)
        let u = UnsafeMutableRawBufferPointer(rebasing: buffer[ip..<(ip + udpLength)])
        writeBE16(u, 0, sourcePort)
        writeBE16(u, 2, destinationPort)
        writeBE16(u, 4, UInt16(udpLength))
        u.storeBytes(of: 0, toByteOffset: 6, as: UInt16.self)
        if length > 0 {
            UnsafeMutableRawBufferPointer(rebasing: u[8...]).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: payload[payload.startIndex..<(payload.startIndex + length)]))
        }
        var checksum = InternetChecksum.finish(InternetChecksum.add(UnsafeRawBufferPointer(u), to: pseudo))
        if checksum == 0 { checksum = 0xffff }  // zero means "no checksum" in UDP
        u.storeBytes(of: checksum, toByteOffset: 6, as: UInt16.self)
        return UnsafeRawBufferPointer(rebasing: buffer[0..<(ip + udpLength)])
    }

    /// An ICMP echo reply mirroring `request` (the ICMP message of an echo request).
    func icmpEchoReply(
        source: IPv4Address, destination: IPv4Address, request: UnsafeRawBufferPointer
    ) -> UnsafeRawBufferPointer {
        let length = min(request.count, buffer.count - 20)
        let ip = writeIPv4Header(source: source, destination: destination, protocol: 1, payloadLength: length)
        let m = UnsafeMutableRawBufferPointer(rebasing: buffer[ip..<(ip + length)])
        m.copyMemory(from: UnsafeRawBufferPointer(rebasing: request[request.startIndex..<(request.startIndex + length)]))
        m[0] = 0  // echo reply
        m[1] = 0
        m.storeBytes(of: 0, toByteOffset: 2, as: UInt16.self)
        m.storeBytes(of: InternetChecksum.finish(InternetChecksum.add(UnsafeRawBufferPointer(m))), toByteOffset: 2, as: UInt16.self)
        return UnsafeRawBufferPointer(rebasing: buffer[0..<(ip + length)])
    }
}
