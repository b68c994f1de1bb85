import TestSupport
import NIOCore
import Testing
@testable import Tunnel
import NetworkAddress

@Suite("Tunnel frame codec")
struct TunnelFrameCodecTests {
    static let flow4 = TunnelFlow(transport: .tcp, source: TunnelEndpoint(address: IPAddress("10.0.0.1")!, port: 40000),
                                  destination: TunnelEndpoint(address: IPAddress("10.96.0.10")!, port: 80))
    static let flow6 = TunnelFlow(transport: .udp, source: TunnelEndpoint(address: IPAddress("fd00::1")!, port: 5353),
                                  destination: TunnelEndpoint(address: IPAddress("fd00:10::a")!, port: 53))

    func decodeAll(_ bytes: ByteBuffer, max: UInt32 = 1 << 20) throws -> [TunnelFrame] {
        var buffer = bytes
        var frames: [TunnelFrame] = []
        let decoder = TunnelFrameDecoder(maxFrameSize: max)
        while let frame = try decoder.next(from: &buffer) { frames.append(frame) }
        #expect(buffer.readableBytes == 0)
        return frames
    }

    @Test("known byte vectors for HELLO, OPEN with data, WINDOW_UPDATE")
    func vectors() throws {
        let hello = TunnelFrameEncoder.encode(.hello(TunnelHello(maxFrameSize: 0x10_0000, connectionWindow: 0x400_0000)))
        #expect(Array(hello.readableBytesView) == [0, 0, 0, 14, 0x00, 0, 0, 0, 0, 0,
                                                   0x54, 0x50, 0x54, 0x4E, 0, 1, 0, 0x10, 0, 0, 0x04, 0, 0, 0])
        let open = TunnelFrameEncoder.encode(.open(stream: 1, TunnelOpen(flow: Self.flow4, window: 0x80_0000,
                                                                          dialTimeoutMilliseconds: 3000,
                                                                          initialData: ByteBuffer(string: "GET"), fin: true)))
        #expect(Array(open.readableBytesView) == [0, 0, 0, 25, 0x01, 0x01, 0, 0, 0, 1,
                                                  6, 4, 10, 0, 0, 1, 0x9C, 0x40, 10, 96, 0, 10, 0, 80,
                                                  0, 0x80, 0, 0, 0, 0, 0x0B, 0xB8, 0x47, 0x45, 0x54])
        let update = TunnelFrameEncoder.encode(.windowUpdate(stream: 0, increment: 65536))
        #expect(Array(update.readableBytesView) == [0, 0, 0, 4, 0x05, 0, 0, 0, 0, 0, 0, 1, 0, 0])
    }

    static let samples: [TunnelFrame] = [
        .hello(TunnelHello(maxFrameSize: 1 << 20, connectionWindow: 1 << 26)),
        .open(stream: 1, TunnelOpen(flow: flow4, window: 8 << 20, initialData: ByteBuffer(string: "hello"))),
        .open(stream: 3, TunnelOpen(flow: flow6, window: 1, dialTimeoutMilliseconds: 5, fin: true)),
        .openOK(stream: 2, window: 12345),
        .openFailed(stream: 5, reason: .refused, message: "connection refused"),
        .data(stream: 7, ByteBuffer(bytes: Array(repeating: 0xAB, count: 1000))),
        .data(stream: 7, ByteBuffer()),
        .windowUpdate(stream: 9, increment: UInt32(Int32.max)),
        .fin(stream: 11),
        .reset(stream: 13, reason: .cancelled),
        .ping(0xDEAD_BEEF_0000_0001),
        .pong(42),
        .goAway(lastStreamID: 100, code: .protocolError, message: "bye"),
        .datagram(stream: 15, ByteBuffer(string: "dns")),
    ]

    @Test("every frame type survives encode then decode")
    func roundTrip() throws {
        var all = ByteBuffer()
        for frame in Self.samples { TunnelFrameEncoder.encode(frame, into: &all) }
        #expect(try decodeAll(all) == Self.samples)
    }

    /// DATA frames joined per stream into one piece each, everything else as it is: what a
    /// receiver observes (it counts bytes, not frames).
    static func observed(_ frames: [TunnelFrame]) -> [TunnelFrame] {
        var result: [TunnelFrame] = []
        for frame in frames {
            guard case .data(let stream, var bytes) = frame else {
                result.append(frame)
                continue
            }
            if case .data(let last, var joined)? = result.last, last == stream {
                joined.writeBuffer(&bytes)
                result[result.count - 1] = .data(stream: stream, joined)
            } else {
                result.append(.data(stream: stream, bytes))
            }
        }
        return result.filter { if case .data(_, let b) = $0 { b.readableBytes > 0 } else { true } }
    }

    @Test("pieces of DATA mean the same as the frames, whatever the chunking, and never an empty piece")
    func piecesMeanTheSameAsFrames() throws {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            var frames = (0..<Int.random(in: 1...8, using: &rng)).map { _ in randomFrame(&rng) }
            // Large DATA frames too, so that pieces span many chunks.
            frames.append(.data(stream: 3, ByteBuffer(bytes: (0..<Int.random(in: 1...5000, using: &rng)).map { UInt8(truncatingIfNeeded: $0) })))
            frames.shuffle(using: &rng)
            var wire = ByteBuffer()
            for frame in frames { TunnelFrameEncoder.encode(frame, into: &wire) }
            var accumulated = ByteBuffer()
            var pieces: [TunnelFrame] = []
            var decoder = TunnelFrameDecoder(maxFrameSize: 1 << 20)
            while wire.readableBytes > 0 {
                var chunk = wire.readSlice(length: Int.random(in: 1...max(1, min(wire.readableBytes, 700)), using: &rng))!
                accumulated.writeBuffer(&chunk)
                while let frame = try decoder.nextPiece(from: &accumulated) {
                    if case .data(_, let bytes) = frame { #expect(bytes.readableBytes > 0) }
                    pieces.append(frame)
                }
            }
            #expect(accumulated.readableBytes == 0)
            #expect(Self.observed(pieces) == Self.observed(frames))
        }
    }

    @Test("a piece decoder refuses what the whole-frame decoder refuses")
    func piecesCheckTheHeader() {
        var tooLarge = ByteBuffer()
        TunnelFrameEncoder.writeHeader(type: .data, flags: 0, stream: 1, length: 5000, into: &tooLarge)
        tooLarge.writeBytes([1, 2, 3])
        var decoder = TunnelFrameDecoder(maxFrameSize: 4096)
        #expect(throws: TunnelProtocolError.self) { try decoder.nextPiece(from: &tooLarge) }
        var streamZero = ByteBuffer()
        TunnelFrameEncoder.writeHeader(type: .data, flags: 0, stream: 0, length: 50, into: &streamZero)
        streamZero.writeBytes([1, 2, 3])
        var other = TunnelFrameDecoder(maxFrameSize: 4096)
        #expect(throws: TunnelProtocolError.self) { try other.nextPiece(from: &streamZero) }
    }

    @Test("random frames round-trip, whatever the chunking")
    func randomRoundTripAnyChunking() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let frames = (0..<Int.random(in: 1...8, using: &rng)).map { _ in randomFrame(&rng) }
            var wire = ByteBuffer()
            for frame in frames { TunnelFrameEncoder.encode(frame, into: &wire) }
            // Feed in random-sized chunks, as a socket would deliver them.
            var accumulated = ByteBuffer()
            var decoded: [TunnelFrame] = []
            let decoder = TunnelFrameDecoder(maxFrameSize: 1 << 20)
            while wire.readableBytes > 0 {
                var chunk = wire.readSlice(length: Int.random(in: 1...max(1, min(wire.readableBytes, 300)), using: &rng))!
                accumulated.writeBuffer(&chunk)
                while let frame = try decoder.next(from: &accumulated) { decoded.append(frame) }
            }
            #expect(decoded == frames)
        }
    }

    @Test("oversized frames are refused from the header, before the payload arrives")
    func oversized() {
        var header = ByteBuffer()
        TunnelFrameEncoder.writeHeader(type: .data, flags: 0, stream: 1, length: 1 << 24, into: &header)
        #expect(throws: TunnelProtocolError.frameTooLarge(length: 1 << 24, limit: 1 << 20)) {
            try TunnelFrameDecoder(maxFrameSize: 1 << 20).next(from: &header)
        }
    }

    @Test("malformed frames are typed errors")
    func malformed() {
        func decode(_ bytes: [UInt8]) throws -> TunnelFrame? {
            var b = ByteBuffer(bytes: bytes)
            return try TunnelFrameDecoder(maxFrameSize: 1 << 20).next(from: &b)
        }
        #expect(throws: TunnelProtocolError.unknownFrameType(0x7F)) { try decode([0, 0, 0, 0, 0x7F, 0, 0, 0, 0, 1]) }
        #expect(throws: TunnelProtocolError.notATunnel) {
            try decode([0, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0x48, 0x54, 0x54, 0x50, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0])
        }
        // A window update of zero, a stream frame on stream 0, flags where none are allowed.
        #expect(throws: TunnelProtocolError.self) { try decode([0, 0, 0, 4, 5, 0, 0, 0, 0, 1, 0, 0, 0, 0]) }
        #expect(throws: TunnelProtocolError.self) { try decode([0, 0, 0, 0, 6, 0, 0, 0, 0, 0]) }
        #expect(throws: TunnelProtocolError.self) { try decode([0, 0, 0, 0, 6, 0x80, 0, 0, 0, 1]) }
        // An OPEN truncated inside its addresses.
        #expect(throws: TunnelProtocolError.self) { try decode([0, 0, 0, 4, 1, 0, 0, 0, 0, 1, 6, 4, 10, 0]) }
        // Unknown OPEN_FAILED reason.
        #expect(throws: TunnelProtocolError.self) { try decode([0, 0, 0, 1, 3, 0, 0, 0, 0, 1, 99]) }
    }

    @Test("random and mutated bytes never crash and never buffer beyond one frame")
    func fuzz() {
        var rng = SeededGenerator(seed: 99)
        var valid = ByteBuffer()
        for frame in Self.samples { TunnelFrameEncoder.encode(frame, into: &valid) }
        let validBytes = Array(valid.readableBytesView)
        let limit: UInt32 = 64 * 1024
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = validBytes
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            var buffer = ByteBuffer()
            // Every other round through the piece decoder (what the multiplexer uses).
            let pieces = round % 4 >= 2
            var decoder = TunnelFrameDecoder(maxFrameSize: limit)
            var offset = 0
            decoding: while offset < bytes.count {
                let n = Int.random(in: 1...32, using: &rng)
                buffer.writeBytes(bytes[offset..<min(bytes.count, offset + n)])
                offset += n
                do {
                    if pieces {
                        while try decoder.nextPiece(from: &buffer) != nil {}
                    } else {
                        while try decoder.next(from: &buffer) != nil {}
                    }
                } catch {
                    break decoding
                }
                // What waits for more bytes is at most one header plus one frame.
                #expect(buffer.readableBytes <= TunnelWire.headerSize + Int(limit))
            }
        }
    }

    func randomFrame(_ rng: inout SeededGenerator) -> TunnelFrame {
        let stream = UInt32.random(in: 1...1000, using: &rng)
        let payload = ByteBuffer(bytes: (0..<Int.random(in: 0...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        switch Int.random(in: 0...8, using: &rng) {
        case 0: return .data(stream: stream, payload)
        case 1: return .datagram(stream: stream, payload)
        case 2: return .open(stream: stream, TunnelOpen(flow: Bool.random(using: &rng) ? Self.flow4 : Self.flow6,
                                                       window: UInt32.random(in: 0...UInt32(Int32.max), using: &rng),
                                                       initialData: payload, fin: Bool.random(using: &rng)))
        case 3: return .windowUpdate(stream: stream, increment: UInt32.random(in: 1...UInt32(Int32.max), using: &rng))
        case 4: return .reset(stream: stream, reason: .connectionReset)
        case 5: return .openFailed(stream: stream, reason: .timeout, message: "t")
        case 6: return .ping(UInt64.random(in: 0...UInt64.max, using: &rng))
        case 7: return .fin(stream: stream)
        default: return .openOK(stream: stream, window: 1)
        }
    }
}

