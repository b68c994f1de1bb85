import HTTP2Cleartext
import NIOCore
import Testing
import TestSupport

/// The h2c upgrade's pieces without sockets.
@Suite("h2c upgrade: the settings ACK filter and the upgrade request")
struct HTTP2CleartextTests {
    /// Random frame sequences cut at random points: exactly the first SETTINGS ACK is gone,
    /// every other byte passes in order.
    @Test func theFirstSettingsAckAndNothingElseIsDropped() {
        var random = SeededGenerator(seed: 14)
        for _ in 0..<300 {
            var frames: [[UInt8]] = []
            var ackIndex: Int?
            for index in 0..<Int.random(in: 1...8, using: &random) {
                let isAck = Bool.random(using: &random)
                if isAck && ackIndex == nil { ackIndex = index }
                let length = isAck ? 0 : Int.random(in: 0...40, using: &random)
                let type: UInt8 = isAck ? 0x4 : [0x0, 0x1, 0x4, 0x8].randomElement(using: &random)!
                let flags: UInt8 = isAck ? 0x1 : (type == 0x4 ? 0 : UInt8.random(in: 0...255, using: &random))
                var frame = [UInt8(length >> 16), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags, 0, 0, 0, 0]
                frame += (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                frames.append(frame)
            }
            let input = frames.flatMap { $0 }
            let expected = frames.enumerated().filter { $0.offset != ackIndex }.flatMap { $0.element }
            var filter = FirstSettingsAckFilter()
            var output: [UInt8] = []
            var position = 0
            while position < input.count {
                let size = Int.random(in: 1...max(1, input.count - position), using: &random)
                let chunk = filter.filter(ByteBuffer(bytes: input[position..<position + size]))
                output += chunk.readableBytesView
                position += size
            }
            #expect(output == expected)
        }
    }

    @Test func anUpgradeRequestBecomesSettingsAndStreamOne() throws {
        // SETTINGS_MAX_CONCURRENT_STREAMS = 100 (base64url, no padding, as curl sends it).
        let request = H2CUpgradeRequest(
            method: "POST", target: "/p?q", headers: [("Host", "svc:80"), ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
                                                      ("HTTP2-Settings", "AAMAAABk"), ("X-User", "alice"), ("Content-Length", "2")],
            body: ByteBuffer(string: "hi"))
        #expect(H2CUpgradeRequest.asksForH2C(headers: request.headers))
        #expect(try request.settingsPayload() == [0, 3, 0, 0, 0, 100])
        let fields = request.http2Headers.map { "\($0.name)=\($0.value)" }
        #expect(fields == [":method=POST", ":scheme=http", ":path=/p?q", ":authority=svc:80", "x-user=alice", "content-length=2"])
        var prelude = try request.prelude(allocator: ByteBufferAllocator())
        // SETTINGS (6 bytes), HEADERS on stream 1 without END_STREAM, DATA "hi" with it.
        #expect(prelude.readBytes(length: 9) == [0, 0, 6, 4, 0, 0, 0, 0, 0])
        prelude.moveReaderIndex(forwardBy: 6)
        let headers = prelude.readBytes(length: 9)!
        #expect(headers[3] == 1 && headers[4] == 0x4 && headers[8] == 1)
        prelude.moveReaderIndex(forwardBy: Int(headers[1]) << 8 | Int(headers[2]))
        #expect(prelude.readBytes(length: 9) == [0, 0, 2, 0, 1, 0, 0, 0, 1])
        #expect(prelude.readString(length: 2) == "hi")
        let noSettings = H2CUpgradeRequest(method: "GET", target: "/", headers: [("Upgrade", "h2c")], body: ByteBuffer())
        #expect(!H2CUpgradeRequest.asksForH2C(headers: noSettings.headers))
        #expect(throws: H2CUpgradeError.self) { try noSettings.prelude(allocator: ByteBufferAllocator()) }
    }
}
