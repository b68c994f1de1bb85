import NIOCore
import NIOPosix
import NetworkAddress
import Tunnel

/// A workstation side and a cluster side joined by one multiplexed connection over loopback TCP,
/// plus test servers. Everything listens on 127.0.0.1 port 0; `shutdown` closes it all.
final class TunnelTestHarness: Sendable {
    let group: MultiThreadedEventLoopGroup
    let clusterListener: any Channel
    let workstation: any Channel
    let multiplexer: NIOLoopBound<TunnelMultiplexer>

    private init(group: MultiThreadedEventLoopGroup, clusterListener: any Channel, workstation: any Channel,
                 multiplexer: NIOLoopBound<TunnelMultiplexer>) {
        self.group = group
        self.clusterListener = clusterListener
        self.workstation = workstation
        self.multiplexer = multiplexer
    }

    static func start(configuration: TunnelConfiguration = TunnelConfiguration()) async throws -> TunnelTestHarness {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            let listener = try await TunnelServer.listen(
                host: "127.0.0.1", port: 0, group: group, configuration: configuration,
                dialer: TunnelDialer(defaultTimeout: .seconds(5))).get()
            let loop = group.next()
            let client = try await ClientBootstrap(group: loop)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TunnelMultiplexer(role: .initiator, configuration: configuration))
                    }
                }
                .connect(to: listener.localAddress!).get()
            let mux = try await loop.submit {
                NIOLoopBound(try client.pipeline.syncOperations.handler(type: TunnelMultiplexer.self), eventLoop: loop)
            }.get()
            return TunnelTestHarness(group: group, clusterListener: listener, workstation: client, multiplexer: mux)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// A local listener whose connections become streams to `destination`.
    func forwarder(to destination: SocketAddress) async throws -> any Channel {
        try await TunnelForwarder.listen(destination: TunnelEndpoint(destination)!,
                                         multiplexer: multiplexer).get()
    }

    func shutdown() async {
        try? await workstation.close().get()
        try? await clusterListener.close().get()
        try? await group.shutdownGracefully()
    }
}

/// Test servers on 127.0.0.1.
enum TestServers {
    /// Echoes bytes and the half-close.
    static func echo(group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Reads everything; at EOF answers with the byte count and checksum (16 bytes) and closes.
    static func checksumSink(group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SinkHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// A UDP socket that answers each datagram with the same bytes.
    static func udpEcho(group: any EventLoopGroup) async throws -> any Channel {
        try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// A port nothing listens on (bound, then closed).
    static func closedPort(group: any EventLoopGroup) async throws -> SocketAddress {
        let channel = try await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let address = channel.localAddress!
        try await channel.close().get()
        return address
    }
}

final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(promise: nil) }
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

final class SinkHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    var checksum = Checksum()
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        checksum.add(unwrapInboundIn(data))
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            var answer = ByteBuffer()
            answer.writeInteger(UInt64(checksum.count))
            answer.writeInteger(checksum.value)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(answer)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

final class UDPEchoHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// A position-dependent checksum (Fletcher-style over 64-bit words), so reordering is caught too.
struct Checksum: Sendable, Equatable {
    var count = 0
    var a: UInt64 = 1
    var b: UInt64 = 0
    var pending: [UInt8] = []
    var value: UInt64 { (b << 32) ^ a ^ UInt64(pending.count) }

    mutating func add(_ buffer: ByteBuffer) {
        count += buffer.readableBytes
        buffer.withUnsafeReadableBytes { raw in
            var i = 0
            // Finish a partial word left from the previous chunk.
            while !pending.isEmpty && pending.count < 8 && i < raw.count { pending.append(raw[i]); i += 1 }
            if pending.count == 8 { word(pending.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }); pending.removeAll() }
            while i + 8 <= raw.count {
                word(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            while i < raw.count { pending.append(raw[i]); i += 1 }
        }
    }

    private mutating func word(_ w: UInt64) {
        a = a &+ w
        b = b &+ a
    }
}

/// A client that connects, sends `payload`, half-closes, and collects the answer until EOF.
final class CollectingClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Result: Sendable {
        var checksum: Checksum
        var bytes: ByteBuffer
        var reset: Bool
    }

    private let payload: ByteBuffer
    private let keepBytes: Bool
    private let promise: EventLoopPromise<Result>
    private var result = Result(checksum: Checksum(), bytes: ByteBuffer(), reset: false)
    private var finished = false

    private func finish() {
        guard !finished else { return }
        finished = true
        promise.succeed(result)
    }

    init(payload: ByteBuffer, keepBytes: Bool, promise: EventLoopPromise<Result>) {
        self.payload = payload
        self.keepBytes = keepBytes
        self.promise = promise
    }

    static func run(group: any EventLoopGroup, to address: SocketAddress, payload: ByteBuffer, keepBytes: Bool = true) async throws -> Result {
        let promise = group.next().makePromise(of: Result.self)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(CollectingClient(payload: payload, keepBytes: keepBytes, promise: promise))
                }
            }
            .connect(to: address).get()
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }

    func channelActive(context: ChannelHandlerContext) {
        var rest = payload
        while rest.readableBytes > 0 {
            context.write(wrapOutboundOut(rest.readSlice(length: min(rest.readableBytes, 1 << 20))!), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenSuccess { channel.close(mode: .output, promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        result.checksum.add(bytes)
        if keepBytes { result.bytes.writeBuffer(&bytes) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { finish() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let io = error as? IOError, io.errnoCode == ECONNRESET { result.reset = true }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
    }
}
