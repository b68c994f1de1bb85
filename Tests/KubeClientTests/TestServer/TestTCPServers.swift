import NIOCore
import NIOPosix
import Synchronization

/// A TCP echo server on 127.0.0.1 (the "container port" of port-forward tests).
final class EchoServer: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init() async throws {
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func shutdown() async { try? await channel.close().get() }

    final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
        func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    }
}

/// A minimal HTTP CONNECT proxy that records the request lines it saw.
final class ConnectProxy: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    init() async throws {
        let box = RequestLog()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(ConnectHandler(log: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.log = box
    }

    private let log: RequestLog
    var seen: [String] { log.lines.withLock { $0 } }

    func shutdown() async { try? await channel.close().get() }

    final class RequestLog: Sendable { let lines = Mutex<[String]>([]) }

    final class ConnectHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let log: RequestLog
        var buffer = ByteBuffer()
        var peer: (any Channel)?
        init(log: RequestLog) { self.log = log }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            if let peer { peer.writeAndFlush(chunk, promise: nil); return }
            buffer.writeBuffer(&chunk)
            let text = String(buffer: buffer)
            guard let end = text.range(of: "\r\n\r\n") else { return }
            let head = String(text[..<end.lowerBound])
            log.lines.withLock { $0.append(contentsOf: head.components(separatedBy: "\r\n")) }
            let target = head.split(separator: " ")[1].split(separator: ":")
            let client = context.channel
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            ClientBootstrap(group: context.eventLoop)
                .channelInitializer { upstream in
                    upstream.eventLoop.makeCompletedFuture {
                        try upstream.pipeline.syncOperations.addHandler(Relay(to: client))
                    }
                }
                .connect(host: String(target[0]), port: Int(target[1])!)
                .whenComplete { result in
                    switch result {
                    case .success(let upstream):
                        loopBound.value.peer = upstream
                        client.writeAndFlush(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n"), promise: nil)
                        client.closeFuture.whenComplete { _ in upstream.close(promise: nil) }
                    case .failure:
                        client.writeAndFlush(ByteBuffer(string: "HTTP/1.1 502 Bad Gateway\r\n\r\n")).whenComplete { _ in client.close(promise: nil) }
                    }
                }
        }
    }

    final class Relay: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let to: any Channel
        init(to: any Channel) { self.to = to }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { to.writeAndFlush(unwrapInboundIn(data), promise: nil) }
        func channelInactive(context: ChannelHandlerContext) { to.close(promise: nil) }
    }
}
