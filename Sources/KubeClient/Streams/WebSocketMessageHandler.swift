import NIOCore
import NIOWebSocket

/// Turns WebSocket frames into channel-protocol messages and back, as the client side:
/// outbound frames are masked, fragmented messages are joined, pings are answered, and a close
/// from the server is echoed before the connection is closed. Closing the channel from our side
/// sends a normal close frame first.
final class WebSocketMessageHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ChannelMessage
    typealias OutboundIn = ChannelMessage
    typealias OutboundOut = WebSocketFrame

    private var fragments: ByteBuffer?
    private var closeSent = false
    /// Limit for one reassembled message.
    private let maxMessageSize: Int

    init(maxMessageSize: Int = 16 << 20) {
        self.maxMessageSize = maxMessageSize
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.fastUnmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .connectionClose:
            if !closeSent {
                closeSent = true
                var echo = context.channel.allocator.buffer(capacity: 2)
                echo.write(webSocketErrorCode: .normalClosure)
                let close = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: echo)
                context.writeAndFlush(wrapOutboundOut(close)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                context.close(promise: nil)
            }
        case .binary, .text, .continuation:
            var data = frame.fastUnmaskedData
            if frame.opcode != .continuation { fragments = nil }
            if !frame.fin || fragments != nil {
                if fragments == nil { fragments = data } else { fragments!.writeBuffer(&data) }
                if (fragments?.readableBytes ?? 0) > maxMessageSize {
                    context.fireErrorCaught(KubeError.streamProtocolViolation("a WebSocket message exceeds \(maxMessageSize) bytes"))
                    context.close(promise: nil)
                    return
                }
                guard frame.fin else { return }
                data = fragments!
                fragments = nil
            }
            guard let channel = data.readInteger(as: UInt8.self) else { return }  // empty keep-alive message
            context.fireChannelRead(wrapInboundOut(ChannelMessage(channel: channel, payload: data)))
        default:
            break
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let message = unwrapOutboundIn(data)
        // The channel byte travels as "extension data" so the payload is not copied to prepend it;
        // no extension is negotiated, so the server reads both as one payload.
        var prefix = context.channel.allocator.buffer(capacity: 1)
        prefix.writeInteger(message.channel)
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: message.payload, extensionData: prefix)
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, !closeSent, context.channel.isActive else {
            return context.close(mode: mode, promise: promise)
        }
        closeSent = true
        var code = context.channel.allocator.buffer(capacity: 2)
        code.write(webSocketErrorCode: .normalClosure)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code)
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in context.close(mode: mode, promise: promise) }
    }
}
