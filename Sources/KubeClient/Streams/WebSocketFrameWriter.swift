import NIOCore
import NIOWebSocket

/// Encodes WebSocket frames like NIO's `WebSocketFrameEncoder`, but masks with
/// `applyWebSocketMask` (word at a time) instead of NIO's byte loop: a client masks every byte
/// it sends (RFC 6455 §5.3), so on a busy port-forward the mask is the hot loop. The header goes
/// in its own small buffer and the payload is masked in place, so a frame is two writes and no
/// copy (unless the payload buffer is shared, when masking copies it first).
final class WebSocketFrameWriter: ChannelOutboundHandler {
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = unwrapOutboundIn(data)
        var extensionData = frame.extensionData
        var payload = frame.data
        let length = (extensionData?.readableBytes ?? 0) + payload.readableBytes

        var header = context.channel.allocator.buffer(capacity: 14 + (extensionData?.readableBytes ?? 0))
        var first = UInt8(webSocketOpcode: frame.opcode)
        if frame.fin { first |= 0x80 }
        if frame.rsv1 { first |= 0x40 }
        if frame.rsv2 { first |= 0x20 }
        if frame.rsv3 { first |= 0x10 }
        header.writeInteger(first)
        let maskBit: UInt8 = frame.maskKey == nil ? 0 : 0x80
        switch length {
        case ..<126:
            header.writeInteger(UInt8(length) | maskBit)
        case ..<65536:
            header.writeInteger(126 | maskBit)
            header.writeInteger(UInt16(length))
        default:
            header.writeInteger(127 | maskBit)
            header.writeInteger(UInt64(length))
        }
        if let key = frame.maskKey {
            header.writeBytes(key)
            extensionData?.applyWebSocketMask(key)
            payload.applyWebSocketMask(key, indexOffset: extensionData?.readableBytes ?? 0)
        }
        // Small extension data (our channel byte) rides in the header's buffer.
        if var extensionData { header.writeBuffer(&extensionData) }
        context.write(wrapOutboundOut(header), promise: nil)
        context.write(wrapOutboundOut(payload), promise: promise)
    }
}
