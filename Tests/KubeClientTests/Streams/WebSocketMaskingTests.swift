import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing
import TestSupport
@testable import KubeClient

/// The word-at-a-time mask and the frame writer built on it, judged by NIO's own byte-loop mask
/// and NIO's frame decoder: the bytes a server reads must be exactly what NIO's encoder wrote.
@Suite struct WebSocketMaskingTests {
    @Test func maskMatchesNIOsForEveryLengthAndOffset() {
        var random = SeededGenerator(seed: 6455)
        for length in 0..<80 {
            for offset in 0..<8 {
                let key = WebSocketMaskingKey.random(using: &random)
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &random) }
                var fast = ByteBuffer(bytes: bytes)
                var reference = ByteBuffer(bytes: bytes)
                fast.applyWebSocketMask(key, indexOffset: offset)
                reference.webSocketMask(key, indexOffset: offset)
                #expect(fast == reference, "length \(length) offset \(offset)")
                fast.applyWebSocketMask(key, indexOffset: offset)
                #expect(fast == ByteBuffer(bytes: bytes), "masking twice is not the identity at length \(length)")
            }
        }
    }

    @Test func maskOfASliceLeavesTheRestAlone() {
        var buffer = ByteBuffer(bytes: Array(repeating: 0xAA, count: 40))
        buffer.moveReaderIndex(forwardBy: 3)
        let key: WebSocketMaskingKey = [1, 2, 3, 4]
        buffer.applyWebSocketMask(key)
        #expect(buffer.readBytes(length: 4) == [0xAB, 0xA8, 0xA9, 0xAE])
        buffer.moveReaderIndex(to: 0)
        #expect(buffer.readBytes(length: 3) == [0xAA, 0xAA, 0xAA])
    }

    @Test(arguments: [0, 1, 124, 125, 126, 127, 65535, 65536, 70000])
    func writerFramesDecodeAsNIOsDo(length: Int) throws {
        var random = SeededGenerator(seed: UInt64(length))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WebSocketFrameWriter())
        defer { _ = try? channel.finish() }
        for masked in [true, false] {
            let payload = ByteBuffer(bytes: (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &random) })
            var prefix = ByteBuffer()
            prefix.writeInteger(UInt8(4))
            let key = masked ? WebSocketMaskingKey.random(using: &random) : nil
            let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: payload, extensionData: prefix)
            try channel.writeOutbound(frame)
            var wire = ByteBuffer()
            while var part = try channel.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&part) }

            let decoder = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
            try decoder.writeInbound(wire)
            let decoded = try #require(try decoder.readInbound(as: WebSocketFrame.self))
            _ = try decoder.finish()
            #expect(decoded.fin && decoded.opcode == .binary)
            #expect(decoded.maskKey == key)
            var expected = prefix
            var body = payload
            expected.writeBuffer(&body)
            #expect(decoded.fastUnmaskedData == expected, "length \(length) masked \(masked)")
            #expect(decoded.unmaskedData == expected)
        }
    }
}
