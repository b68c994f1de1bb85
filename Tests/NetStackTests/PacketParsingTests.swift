import Testing
@testable import NetStack

@Suite struct PacketParsingTests {
    typealias F = PacketFactory

    static let samples: [[UInt8]] = [
        F.tcp(seq: 1000, flags: .syn, options: F.linuxSynOptions()),
        F.tcp(seq: 5, ack: 9, flags: [.ack, .psh], payload: Array("hello, cluster".utf8)),
        F.tcp(seq: 5, ack: 9, flags: [.ack, .fin], payload: [1, 2, 3]),
        F.udp(payload: Array("query".utf8)),
        F.udp(payload: []),
    ]

    func parse(_ packet: [UInt8]) throws(PacketError) {
        let result: Result<Void, PacketError> = packet.withUnsafeBytes { raw in
            Result { () throws(PacketError) in
                let ip = try IPv4Packet(parsing: raw)
                let pseudo = InternetChecksum.pseudoHeaderV4(
                    source: ip.source, destination: ip.destination, protocol: ip.protocolNumber, length: ip.payload.count)
                switch ip.protocolNumber {
                case 6: _ = try TCPSegment(parsing: ip.payload, pseudoHeaderSum: pseudo)
                case 17: _ = try UDPDatagram(parsing: ip.payload, pseudoHeaderSum: pseudo)
                default: throw .unsupported
                }
            }
        }
        try result.get()
    }

    @Test func validPacketsParseWithTheirFields() throws {
        for sample in Self.samples { try parse(sample) }
        try Self.samples[0].withUnsafeBytes { raw in
            let ip = try IPv4Packet(parsing: raw)
            #expect(ip.source == F.client && ip.destination == F.server && ip.protocolNumber == 6)
            let pseudo = InternetChecksum.pseudoHeaderV4(source: ip.source, destination: ip.destination, protocol: 6, length: ip.payload.count)
            let seg = try TCPSegment(parsing: ip.payload, pseudoHeaderSum: pseudo)
            #expect(seg.flags == .syn && seg.sequenceNumber == 1000 && seg.destinationPort == 80)
            #expect(seg.options.maximumSegmentSize == 1460)
            #expect(seg.options.windowScale == 7)
            #expect(seg.options.sackPermitted)
            #expect(seg.options.timestamp == TCPTimestamp(value: 1, echoReply: 0))
        }
    }

    @Test func everySingleByteCorruptionIsRejected() {
        for sample in Self.samples {
            for index in sample.indices {
                for mask: UInt8 in [0x01, 0x80, 0xff] {
                    var corrupt = sample
                    corrupt[index] ^= mask
                    #expect(throws: PacketError.self, "byte \(index) ^ \(mask)") { try parse(corrupt) }
                }
            }
        }
    }

    @Test func everyTruncationIsRejected() {
        for sample in Self.samples {
            for length in 0..<sample.count {
                #expect(throws: PacketError.self) { try parse(Array(sample[0..<length])) }
            }
        }
    }

    static let samples6: [[UInt8]] = [
        F.tcp6(seq: 1000, flags: .syn),
        F.tcp6(seq: 5, ack: 9, flags: [.ack, .psh], payload: Array("over IPv6".utf8)),
        F.udp6(payload: Array("query".utf8)),
    ]

    func parse6(_ packet: [UInt8]) throws(PacketError) {
        let result: Result<Void, PacketError> = packet.withUnsafeBytes { raw in
            Result { () throws(PacketError) in
                let ip = try IPv6Packet(parsing: raw)
                let pseudo = InternetChecksum.pseudoHeaderV6(
                    source: ip.source, destination: ip.destination, nextHeader: ip.nextHeader, length: ip.payload.count)
                switch ip.nextHeader {
                case 6: _ = try TCPSegment(parsing: ip.payload, pseudoHeaderSum: pseudo)
                case 17: _ = try UDPDatagram(parsing: ip.payload, pseudoHeaderSum: pseudo)
                default: throw .unsupported
                }
            }
        }
        try result.get()
    }

    @Test func ipv6PacketsParseAndCorruptionOfCoveredBytesIsRejected() throws {
        for sample in Self.samples6 {
            try parse6(sample)
            // IPv6 has no header checksum: traffic class, flow label and hop limit are not
            // covered; everything from the addresses on is (pseudo-header and transport).
            for index in [4, 5, 6] + Array(8..<sample.count) {
                var corrupt = sample
                corrupt[index] ^= 0x01
                #expect(throws: PacketError.self, "byte \(index)") { try parse6(corrupt) }
            }
            for length in 0..<sample.count {
                #expect(throws: PacketError.self) { try parse6(Array(sample[0..<length])) }
            }
        }
    }

    @Test func ipv6ConnectionsAndDatagramsWorkLikeIPv4() throws {
        let r = StackRecorder()
        r.input(F.tcp6(seq: 1000, flags: .syn))
        let synAck = try #require(r.packets.first)
        #expect(synAck[0] >> 4 == 6 && synAck[6] == 6)
        // MSS 1500 - 60 for IPv6.
        #expect(Array(synAck[60..<64]) == [2, 4, 0x05, 0xa0])
        r.input(F.udp6(payload: [1, 2]))
        let flow = FlowID(.udp, source: .v6(F.client6), sourcePort: 50000, destination: .v6(F.server6), destinationPort: 53)
        #expect(r.events.last == .datagram(flow, [1, 2]))
        r.packets.removeAll()
        try r.stack.sendDatagram(flow, [3])
        let reply = try #require(r.packets.first)
        // Parsing our reply as if it came in checks its IPv6 pseudo-header checksum.
        try reply.withUnsafeBytes { raw in
            let ip = try IPv6Packet(parsing: raw)
            #expect(ip.source == F.server6 && ip.destination == F.client6)
            let pseudo = InternetChecksum.pseudoHeaderV6(source: ip.source, destination: ip.destination, nextHeader: 17, length: ip.payload.count)
            let udp = try UDPDatagram(parsing: ip.payload, pseudoHeaderSum: pseudo)
            #expect(udp.sourcePort == 53 && udp.destinationPort == 50000 && Array(udp.payload) == [3])
        }
    }

    /// A frame may carry more than the IP total length (Ethernet pads short ones): the extra
    /// bytes are neither the transport's payload nor counted in its checksum.
    @Test func bytesAfterTheTotalLengthAreIgnored() throws {
        let trailer: [UInt8] = [0xde, 0xad, 0xbe, 0xef]
        try (Self.samples[1] + trailer).withUnsafeBytes { raw in
            let ip = try IPv4Packet(parsing: raw)
            #expect(ip.payload.count == Self.samples[1].count - 20)
            let pseudo = InternetChecksum.pseudoHeaderV4(source: ip.source, destination: ip.destination, protocol: 6, length: ip.payload.count)
            let segment = try TCPSegment(parsing: ip.payload, pseudoHeaderSum: pseudo)
            #expect(Array(segment.payload) == Array("hello, cluster".utf8))
        }
        try (Self.samples[3] + trailer).withUnsafeBytes { raw in
            let ip = try IPv4Packet(parsing: raw)
            let pseudo = InternetChecksum.pseudoHeaderV4(source: ip.source, destination: ip.destination, protocol: 17, length: ip.payload.count)
            let datagram = try UDPDatagram(parsing: ip.payload, pseudoHeaderSum: pseudo)
            #expect(Array(datagram.payload) == Array("query".utf8))
        }
        // And what the stack's owner gets: the datagram's own bytes, without the trailer.
        let r = StackRecorder()
        r.input(Self.samples[3] + trailer)
        let flow = FlowID(.udp, source: .v4(F.client), sourcePort: 50000, destination: .v4(F.server), destinationPort: 53)
        #expect(r.events == [.datagram(flow, Array("query".utf8))])
    }

    @Test func fragmentsAreDroppedAndCounted() {
        let fragment = F.ipv4(protocol: 17, payload: [0, 1, 0, 53, 0, 8, 0, 0], flagsFragment: 0x2000)
        let recorder = StackRecorder()
        recorder.input(fragment)
        #expect(recorder.stack.statistics.fragmentsDropped == 1)
        #expect(recorder.events.isEmpty && recorder.packets.isEmpty)
    }

    @Test func malformedTCPOptionsEndOptionParsingWithoutFailing() {
        let bytes: [UInt8] = [2, 4, 5, 0xb4, 3, 0, 1, 1, 8, 200]
        let options = bytes.withUnsafeBytes { TCPOptions(parsing: $0) }
        #expect(options.maximumSegmentSize == 1460)
        #expect(options.windowScale == nil)
    }

    @Test func randomAndMutatedPacketsNeverCrashTheStack() {
        var rng = SystemRandomNumberGenerator()
        let recorder = StackRecorder()
        for _ in 0..<20_000 {
            let packet: [UInt8]
            if Bool.random(using: &rng) {
                packet = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                var p = (Self.samples + Self.samples6).randomElement(using: &rng)!
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    p[Int.random(in: 0..<p.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng) { p = Array(p.prefix(Int.random(in: 0...p.count, using: &rng))) }
                packet = p
            }
            recorder.input(packet)
        }
        let s = recorder.stack.statistics
        #expect(s.packetsReceived == 20_000)
        #expect(s.badChecksum + s.truncated + s.malformed > 15_000)
    }
}
