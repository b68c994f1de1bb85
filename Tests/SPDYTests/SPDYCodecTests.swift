import TestSupport
import Testing
@testable import SPDY

/// Feeds `bytes` in random-sized chunks and collects every frame.
func decodeInChunks(_ bytes: [UInt8], _ decoder: SPDYFrameDecoder, _ rng: inout SeededGenerator) throws -> [SPDYFrame] {
    var frames: [SPDYFrame] = []
    var i = 0
    while i < bytes.count {
        let n = min(bytes.count - i, Int.random(in: 1...17, using: &rng))
        frames += try decoder.decode(bytes[i..<(i + n)])
        i += n
    }
    return frames
}

let kubectlErrorStreamHeaders: SPDYHeaders = ["streamType": "error", "port": "80", "requestID": "0"]

let everyFrameType: [SPDYFrame] = [
    .synStream(SPDYSynStream(streamID: 1, headers: kubectlErrorStreamHeaders)),
    .synStream(SPDYSynStream(streamID: 3, associatedStreamID: 1, priority: 7, slot: 2, fin: true, unidirectional: true,
                             headers: ["streamtype": "data", "port": "80", "requestid": "0"])),
    .synReply(streamID: 1, fin: false, headers: [:]),
    .synReply(streamID: 3, fin: true, headers: ["status": "200", "x-many": "a\u{0}b"]),
    .rstStream(streamID: 5, status: .cancel),
    .rstStream(streamID: 0x7fff_ffff, status: SPDYStreamStatus(rawValue: 99)),
    .settings(clearSettings: true, entries: [SPDYSetting(flags: 1, id: SPDYSetting.initialWindowSizeID, value: 65536),
                                             SPDYSetting(id: 0xff_ffff, value: .max)]),
    .settings(clearSettings: false, entries: []),
    .ping(id: 1),
    .ping(id: .max),
    .goAway(lastGoodStreamID: 7, status: .protocolError),
    .headers(streamID: 9, fin: true, headers: ["trailer": "yes"]),
    .headers(streamID: 9, fin: false, headers: [:]),
    .windowUpdate(streamID: 0, delta: 0x7fff_ffff),
    .windowUpdate(streamID: 3, delta: 1),
    .data(streamID: 1, fin: false, payload: Array("GET / HTTP/1.1\r\n\r\n".utf8)),
    .data(streamID: 3, fin: true, payload: []),
    .data(streamID: 5, fin: false, payload: (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }),
]

@Suite struct SPDYCodecTests {
    @Test func dictionaryMatchesTheSpec() throws {
        // The spec's dictionary is 1423 bytes; its Adler-32 (0xe3c6a7c2) is the DICTID every
        // SPDY/3 header block carries after the zlib header, so peers check it on inflate.
        #expect(SPDYDictionary.bytes.count == 1423)
        let encoder = try SPDYFrameEncoder()
        let bytes = try encoder.encode(.synReply(streamID: 1, fin: false, headers: ["a": "b"]))
        let block = Array(bytes[12...])
        #expect(block[1] & 0x20 != 0, "FDICT flag set")
        #expect(Array(block[2..<6]) == [0xe3, 0xc6, 0xa7, 0xc2])
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5])
    func everyFrameTypeRoundTripsInRandomChunks(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        let encoder = try SPDYFrameEncoder()
        let decoder = try SPDYFrameDecoder()
        var wire: [UInt8] = []
        for frame in everyFrameType { try encoder.encode(frame, into: &wire) }
        let decoded = try decodeInChunks(wire, decoder, &rng)
        #expect(decoded == everyFrameType)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func manyHeaderBlocksShareOneCompressionContext() throws {
        let encoder = try SPDYFrameEncoder()
        let decoder = try SPDYFrameDecoder()
        var sizes: [Int] = []
        for requestID in 0..<50 {
            for (offset, type) in ["error", "data"].enumerated() {
                let id = UInt32(requestID * 4 + offset * 2 + 1)
                let frame = SPDYFrame.synStream(SPDYSynStream(
                    streamID: id, headers: ["streamtype": type, "port": "8080", "requestid": "\(requestID)"]))
                let bytes = try encoder.encode(frame)
                sizes.append(bytes.count)
                #expect(try decoder.decode(bytes) == [frame])
            }
        }
        // Later blocks reuse the window of earlier ones, so they shrink: proof the context is shared.
        #expect(sizes.last! < sizes.first!)
        // A fresh decoder cannot read a mid-connection block: the contexts are per connection.
        let encoderBytes = try encoder.encode(.headers(streamID: 1, fin: false, headers: ["port": "8080"]))
        #expect(throws: SPDYError.self) { try SPDYFrameDecoder().decode(encoderBytes) }
    }

    @Test func kubectlErrorStreamSynStreamVector() throws {
        let encoder = try SPDYFrameEncoder()
        let frame = SPDYFrame.synStream(SPDYSynStream(streamID: 1, headers: kubectlErrorStreamHeaders))
        let bytes = try encoder.encode(frame)
        // Control bit + version 3, type 1, no flags, 24-bit length of the rest.
        #expect(Array(bytes[0..<5]) == [0x80, 0x03, 0x00, 0x01, 0x00])
        let length = Int(bytes[5]) << 16 | Int(bytes[6]) << 8 | Int(bytes[7])
        #expect(length == bytes.count - 8)
        // Stream 1, associated 0, priority 0, slot 0.
        #expect(Array(bytes[8..<18]) == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        // The block inflates to exactly the SPDY/3 pairs, names lowercased.
        let inflater = try SPDYInflater()
        let plain = try inflater.decompress(bytes[18...], limit: 4096)
        var expected: [UInt8] = [0, 0, 0, 3]
        for (name, value) in [("streamtype", "error"), ("port", "80"), ("requestid", "0")] {
            expected.appendUInt32(UInt32(name.utf8.count)); expected += Array(name.utf8)
            expected.appendUInt32(UInt32(value.utf8.count)); expected += Array(value.utf8)
        }
        #expect(plain == expected)
        let decoded = try SPDYFrameDecoder().decode(bytes)
        #expect(decoded == [frame])
        guard case .synStream(let syn) = decoded.first else { Issue.record("not a SYN_STREAM"); return }
        #expect(syn.headers["streamType"] == "error")
        #expect(syn.headers["requestid"] == "0")
    }

    @Test func oversizedLengthIsRejectedFromTheHeaderAlone() throws {
        let decoder = try SPDYFrameDecoder(maxFrameLength: 1024)
        // Data frame on stream 1 claiming 1025 bytes; no payload follows.
        #expect(throws: SPDYError.frameTooLarge(length: 1025, limit: 1024)) {
            try decoder.decode([0, 0, 0, 1, 0, 0, 0x04, 0x01])
        }
        // The decoder stays failed.
        #expect(throws: SPDYError.frameTooLarge(length: 1025, limit: 1024)) { try decoder.decode([]) }
        let control = try SPDYFrameDecoder(maxFrameLength: 1024)
        #expect(throws: SPDYError.frameTooLarge(length: 0xff_ffff, limit: 1024)) {
            try control.decode([0x80, 3, 0, 1, 0, 0xff, 0xff, 0xff])
        }
    }

    @Test func wrongVersionIsRejected() throws {
        let decoder = try SPDYFrameDecoder()
        #expect(throws: SPDYError.unsupportedVersion(2)) { try decoder.decode([0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1]) }
    }

    @Test func unknownControlTypesAreSkippedAcrossChunks() throws {
        let encoder = try SPDYFrameEncoder()
        var wire: [UInt8] = [0x80, 3, 0, 10, 0, 0, 0, 5, 1, 2, 3, 4, 5]  // type 10 (CREDENTIAL), 5 bytes
        wire += [0x80, 3, 0, 5, 0, 0, 0, 0]  // type 5 (old NOOP), empty
        try encoder.encode(.ping(id: 42), into: &wire)
        for split in 0...wire.count {
            let decoder = try SPDYFrameDecoder()
            let frames = try decoder.decode(wire[..<split]) + decoder.decode(wire[split...])
            #expect(frames == [.ping(id: 42)])
        }
    }

    @Test func malformedControlFramesAreTypedErrors() throws {
        let cases: [[UInt8]] = [
            [0x80, 3, 0, 6, 0, 0, 0, 3, 0, 0, 1],  // PING of 3 bytes
            [0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5],  // RST_STREAM on stream 0
            [0x80, 3, 0, 9, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0],  // WINDOW_UPDATE delta 0
            [0x80, 3, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2],  // SETTINGS claiming 2 entries, holding none
            [0x80, 3, 0, 2, 0, 0, 0, 6, 0, 0, 0, 1, 0x78, 0x00],  // SYN_REPLY with a garbage block
            [0, 0, 0, 0, 0, 0, 0, 0],  // DATA on stream 0
        ]
        for bytes in cases {
            #expect(throws: SPDYError.self) { try SPDYFrameDecoder().decode(bytes) }
        }
    }

    @Test func headerBlockRulesAreEnforced() throws {
        func block(_ plain: [UInt8]) throws -> [UInt8] {
            var body: [UInt8] = [0, 0, 0, 1]
            body += try SPDYDeflater().compress(plain)
            var out: [UInt8] = [0x80, 3, 0, 2, 0]
            out.appendUInt24(UInt32(body.count))
            return out + body
        }
        let upper: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 1, 0x41, 0, 0, 0, 0]
        let duplicate: [UInt8] = [0, 0, 0, 2, 0, 0, 0, 1, 0x61, 0, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 0, 0]
        let hugeCount: [UInt8] = [0xff, 0xff, 0xff, 0xff]
        let trailing: [UInt8] = [0, 0, 0, 0, 9]
        for plain in [upper, duplicate, hugeCount, trailing] {
            #expect(throws: SPDYError.self) { try SPDYFrameDecoder().decode(block(plain)) }
        }
        // A small compressed block that inflates past the cap is refused.
        var bomb: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 1, 0x61, 0, 0x10, 0, 0]
        bomb += [UInt8](repeating: 0x62, count: 0x10_0000)
        let decoder = try SPDYFrameDecoder(maxHeaderBlockLength: 64 * 1024)
        let wire = try block(bomb)
        #expect(wire.count < 8 * 1024)
        #expect(throws: SPDYError.headerBlockTooLarge(limit: 64 * 1024)) { try decoder.decode(wire) }
    }

    @Test(arguments: [UInt64(11), 12, 13, 14])
    func randomAndMutatedBytesNeverCrash(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15)
        let encoder = try SPDYFrameEncoder()
        var valid: [UInt8] = []
        for frame in everyFrameType.dropLast() { try encoder.encode(frame, into: &valid) }
        for round in 0..<300 {
            var bytes: [UInt8]
            if round % 3 == 0 {
                bytes = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                // Make most of them look like SPDY/3 control frames so parsing goes deep.
                if bytes.count > 2, Bool.random(using: &rng) { bytes[0] = 0x80; bytes[1] = 3 }
            } else {
                bytes = valid
                for _ in 0..<Int.random(in: 1...8, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    bytes[i] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            }
            let decoder = try SPDYFrameDecoder(maxFrameLength: 1 << 20, maxHeaderBlockLength: 64 * 1024)
            _ = try? decodeInChunks(bytes, decoder, &rng)
            // Nothing is buffered beyond what was fed.
            #expect(decoder.bufferedByteCount <= bytes.count)
        }
    }

    @Test func encoderRejectsOutOfRangeFields() throws {
        let encoder = try SPDYFrameEncoder()
        #expect(throws: SPDYError.self) { try encoder.encode(.data(streamID: 0, fin: false, payload: [])) }
        #expect(throws: SPDYError.self) { try encoder.encode(.rstStream(streamID: 1 << 31, status: .cancel)) }
        #expect(throws: SPDYError.self) { try encoder.encode(.windowUpdate(streamID: 1, delta: 0)) }
        #expect(throws: SPDYError.self) {
            try encoder.encode(.synStream(SPDYSynStream(streamID: 1, priority: 8, headers: [:])))
        }
    }

    @Test func headerNamesAreLowercasedAndRepeatedValuesSplit() {
        var headers: SPDYHeaders = ["X-Stream-Protocol-Version": "v4.channel.k8s.io\u{0}channel.k8s.io"]
        #expect(headers.fields.map(\.name) == ["x-stream-protocol-version"])
        #expect(headers.values(for: "x-stream-protocol-version") == ["v4.channel.k8s.io", "channel.k8s.io"])
        headers["PORT"] = "80"
        headers["port"] = "81"
        #expect(headers.fields.count == 2)
        #expect(headers["Port"] == "81")
        headers["port"] = nil
        #expect(headers.values(for: "port") == [])
    }

    @Test func errorsReadAsOneSentence() {
        let text = SPDYError.frameTooLarge(length: 5, limit: 4).description
        #expect(text.hasSuffix("."))
        #expect(text.contains("5"))
    }
}
