import Foundation
import KubeClient
import NIOCore
import NIOPosix
import NIOWebSocket

/// Writes server-side (unmasked) channel-protocol frames.
private func sendMessage(_ context: ChannelHandlerContext, channel: UInt8, _ payload: ByteBuffer) {
    var buffer = context.channel.allocator.buffer(capacity: payload.readableBytes + 1)
    buffer.writeInteger(channel)
    var payload = payload
    buffer.writeBuffer(&payload)
    context.writeAndFlush(NIOAny(WebSocketFrame(fin: true, opcode: .binary, data: buffer)), promise: nil)
}

private func closeWebSocket(_ context: ChannelHandlerContext) {
    var code = context.channel.allocator.buffer(capacity: 2)
    code.write(webSocketErrorCode: .normalClosure)
    context.writeAndFlush(NIOAny(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))).assumeIsolated()
        .whenComplete { _ in context.close(promise: nil) }
}

/// The kubelet's side of WebSocket port-forward (v4 channel protocol), forwarding to a TCP port
/// on 127.0.0.1.
final class ServerPortForwardHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    private let pod: String
    private let port: Int
    private var upstream: (any Channel)?
    private var pending: [ByteBuffer] = []
    private var closed = false

    init(pod: String, port: Int) {
        self.pod = pod
        self.port = port
    }

    func handlerAdded(context: ChannelHandlerContext) {
        var header = ByteBuffer()
        header.writeInteger(UInt16(port), endianness: .little)
        sendMessage(context, channel: 0, header)
        sendMessage(context, channel: 1, header)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let wsChannel = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelInitializer { tcp in
                tcp.eventLoop.makeCompletedFuture {
                    try tcp.pipeline.syncOperations.addHandler(UpstreamHandler(downstream: wsChannel))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .whenComplete { result in
                let (handler, context) = bound.value
                switch result {
                case .success(let tcp):
                    handler.upstream = tcp
                    for chunk in handler.pending { tcp.write(chunk, promise: nil) }
                    tcp.flush()
                    handler.pending = []
                    wsChannel.closeFuture.whenComplete { _ in tcp.close(promise: nil) }
                case .failure:
                    let text = "error forwarding port \(handler.port) to pod \(handler.pod), uid : failed to execute portforward in network namespace: failed to connect to localhost:\(handler.port) inside namespace: connection refused"
                    sendMessage(context, channel: 1, ByteBuffer(string: text))
                    closeWebSocket(context)
                }
            }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            var payload = frame.unmaskedData
            guard payload.readInteger(as: UInt8.self) == 0 else { return }
            if let upstream { upstream.writeAndFlush(payload, promise: nil) } else { pending.append(payload) }
        case .connectionClose:
            upstream?.close(promise: nil)
            context.close(promise: nil)
        default:
            break
        }
    }

    /// Bytes from the TCP port back to the WebSocket as data-channel messages.
    final class UpstreamHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let downstream: any Channel
        init(downstream: any Channel) { self.downstream = downstream }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var payload = unwrapInboundIn(data)
            var buffer = ByteBuffer()
            buffer.reserveCapacity(payload.readableBytes + 1)
            buffer.writeInteger(UInt8(0))
            buffer.writeBuffer(&payload)
            downstream.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, data: buffer), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            downstream.close(promise: nil)
        }
    }
}

/// The kubelet's side of exec with scripted commands: `echo ARGS`, `cat` (stdin to stdout
/// until stdin is closed), `fail CODE MESSAGE` (stderr and a non-zero exit), `both` (one line
/// on each of stdout and stderr).
final class ServerExecHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    private let command: [String]
    private let isV5: Bool
    private var done = false

    init(command: [String], isV5: Bool) {
        self.command = command
        self.isV5 = isV5
    }

    func handlerAdded(context: ChannelHandlerContext) {
        switch command.first {
        case "echo":
            sendMessage(context, channel: 1, ByteBuffer(string: command.dropFirst().joined(separator: " ") + "\n"))
            finish(context, exitCode: 0)
        case "fail":
            sendMessage(context, channel: 2, ByteBuffer(string: command.dropFirst(2).joined(separator: " ") + "\n"))
            finish(context, exitCode: Int(command.dropFirst().first ?? "") ?? 1)
        case "both":
            sendMessage(context, channel: 1, ByteBuffer(string: "to stdout\n"))
            sendMessage(context, channel: 2, ByteBuffer(string: "to stderr\n"))
            finish(context, exitCode: 0)
        case "cat":
            break
        default:
            sendMessage(context, channel: 2, ByteBuffer(string: "unknown command\n"))
            finish(context, exitCode: 127)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .binary, !done else { return }
        var payload = frame.unmaskedData
        switch payload.readInteger(as: UInt8.self) {
        case 0: sendMessage(context, channel: 1, payload)
        case 255 where isV5 && payload.readInteger(as: UInt8.self) == 0: finish(context, exitCode: 0)
        default: break
        }
    }

    private func finish(_ context: ChannelHandlerContext, exitCode: Int) {
        done = true
        let status = exitCode == 0
            ? #"{"metadata":{},"status":"Success"}"#
            : #"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: error executing command [sh -c exit \#(exitCode)], exit code \#(exitCode)","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"\#(exitCode)"}]},"code":500}"#
        sendMessage(context, channel: 3, ByteBuffer(string: status))
        closeWebSocket(context)
    }
}
