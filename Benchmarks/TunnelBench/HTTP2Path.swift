import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// The alternative framing: one raw HTTP/2 stream (NIOHTTP2, no gRPC) per tunneled connection.
/// The client side sends HEADERS (CONNECT host:port) and the first bytes at once, without
/// waiting for the answer (one round trip, like our OPEN with data); the server dials and relays.
/// Windows are set like the tunnel's (per stream and per connection) so only the framing differs.
enum HTTP2Path {
    static func start(group: any EventLoopGroup, sink: SocketAddress, echo: SocketAddress, delay: TimeAmount?,
                      window: Int) async throws -> BenchPath {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 10_000),
            HTTP2Setting(parameter: .initialWindowSize, value: window),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 20),
        ]
        connection.targetWindowSize = min(window * 8, Int(Int32.max))
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = window
        stream.outboundBufferSizeHighWatermark = 1 << 20
        stream.outboundBufferSizeLowWatermark = 1 << 19
        let (connectionConfiguration, streamConfiguration) = (connection, stream)

        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .server, connectionConfiguration: connectionConfiguration, streamConfiguration: streamConfiguration
                    ) { streamChannel in
                        streamChannel.eventLoop.makeCompletedFuture {
                            try streamChannel.pipeline.syncOperations.addHandler(StreamSide(role: .dialer))
                        }
                    }
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        var target = server.localAddress!
        if let delay { target = try await DelayRelay.start(group: group, to: target, delay: delay).localAddress! }
        let loop = group.next()
        let client = try await ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(to: target).get()
        let multiplexer = try await loop.submit {
            NIOLoopBound(try client.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .client, connectionConfiguration: connectionConfiguration, streamConfiguration: streamConfiguration
            ) { $0.eventLoop.makeSucceededVoidFuture() }, eventLoop: loop)
        }.get()

        func listen(to destination: SocketAddress) async throws -> Int {
            let listener = try await ServerBootstrap(group: loop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { socket in
                    // Open the HTTP/2 stream, send CONNECT, then relay; the socket's bytes follow the
                    // HEADERS at once (no wait for the answer).
                    let promise = socket.eventLoop.makePromise(of: Channel.self)
                    multiplexer.value.createStreamChannel(promise: promise) { streamChannel in
                        streamChannel.eventLoop.makeCompletedFuture {
                            let side = StreamSide(role: .opener(destination))
                            try streamChannel.pipeline.syncOperations.addHandler(side)
                        }
                    }
                    return promise.futureResult.flatMapThrowing { streamChannel in
                        let socketSide = SocketSide(stream: streamChannel)
                        try socket.pipeline.syncOperations.addHandler(socketSide)
                        let side = try streamChannel.pipeline.syncOperations.handler(type: StreamSide.self)
                        side.attach(socket: socket)
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            return listener.localAddress!.port!
        }
        return BenchPath(name: "http2", sinkPort: try await listen(to: sink), echoPort: try await listen(to: echo))
    }
}

/// On the TCP socket: its bytes become DATA frames on the stream; its FIN an END_STREAM.
final class SocketSide: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let stream: any Channel
    private var readPending = false
    private var context: ChannelHandlerContext?

    init(stream: any Channel) { self.stream = stream }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(unwrapInboundIn(data))))
        stream.write(payload, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        stream.flush()
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if stream.isWritable { context.read() } else { readPending = true }
    }

    /// The stream became writable again.
    func resume() {
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { endStream() }
    }

    private var ended = false

    /// END_STREAM after the DATA already written (a close after our own half-close arrives as
    /// channelInactive, not inputClosed).
    private func endStream() {
        guard !ended else { return }
        ended = true
        stream.writeAndFlush(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true)), promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { stream.read() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        endStream()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stream.close(promise: nil)
        context.close(promise: nil)
    }
}

/// On the HTTP/2 stream channel: DATA to the socket, END_STREAM as its FIN; the dialer side
/// dials on the CONNECT HEADERS and answers 200.
final class StreamSide: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    enum Role {
        case opener(SocketAddress)
        case dialer
    }

    let role: Role
    private var socket: (any Channel)?
    private var context: ChannelHandlerContext?
    private var early: [ByteBuffer] = []
    private var earlyEnd = false
    private var readPending = false

    init(role: Role) { self.role = role }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if case .opener(let destination) = role {
            let headers: HPACKHeaders = [":method": "CONNECT", ":authority": "\(destination.ipAddress!):\(destination.port!)"]
            context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        }
    }

    func attach(socket: any Channel) {
        self.socket = socket
        for bytes in early { socket.write(bytes, promise: nil) }
        early.removeAll()
        socket.flush()
        if earlyEnd { closeSocketOutput() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if case .dialer = role, socket == nil, let authority = headers.headers.first(name: ":authority") {
                dial(authority, context: context)
            }
            if headers.endStream { endOfStream() }
        case .data(let data):
            if case .byteBuffer(let bytes) = data.data, bytes.readableBytes > 0 {
                if let socket { socket.write(bytes, promise: nil) } else { early.append(bytes) }
            }
            if data.endStream { endOfStream() }
        case .rstStream:
            socket?.close(promise: nil)
        default:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        socket?.flush()
        // WINDOW_UPDATEs arrive here too; a socket waiting for stream writability must not
        // depend on a writability edge alone.
        resumeSocket(context: context)
        context.fireChannelReadComplete()
    }

    private func resumeSocket(context: ChannelHandlerContext) {
        if context.channel.isWritable, let socket, let side = try? socket.pipeline.syncOperations.handler(type: SocketSide.self) {
            side.resume()
        }
    }

    func read(context: ChannelHandlerContext) {
        if let socket, !socket.isWritable { readPending = true } else { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeSocket(context: context)
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        socket?.close(promise: nil)
    }

    /// The socket drained: credit may flow again.
    func resume() {
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    private func endOfStream() {
        if socket == nil { earlyEnd = true } else { closeSocketOutput() }
    }

    private func closeSocketOutput() {
        guard let socket else { return }
        socket.writeAndFlush(ByteBuffer()).whenComplete { _ in socket.close(mode: .output, promise: nil) }
    }

    private func dial(_ authority: String, context: ChannelHandlerContext) {
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]),
              let address = try? SocketAddress(ipAddress: String(authority[..<colon]), port: port) else {
            context.close(promise: nil)
            return
        }
        let stream = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { socket in
                socket.eventLoop.makeCompletedFuture { try socket.pipeline.syncOperations.addHandler(SocketSide(stream: stream)) }
            }
            .connect(to: address)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let socket):
                    context.writeAndFlush(self.wrapOutboundOut(.headers(.init(headers: [":status": "200"]))), promise: nil)
                    self.attach(socket: socket)
                case .failure:
                    context.writeAndFlush(self.wrapOutboundOut(.headers(.init(headers: [":status": "502"], endStream: true))), promise: nil)
                    context.close(promise: nil)
                }
            }
    }
}
