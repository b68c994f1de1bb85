import NIOCore
import NIOPosix

/// A TCP relay that holds every chunk (and the FIN) for `delay` before passing it on, in each
/// direction: a link with RTT = 2 x delay on loopback. It reads as fast as the far side
/// takes bytes, so like a real link it holds bandwidth x delay in flight.
enum DelayRelay {
    static func start(group: any EventLoopGroup, to target: SocketAddress, delay: TimeAmount) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                inbound.eventLoop.makeCompletedFuture {
                    try inbound.pipeline.syncOperations.addHandler(DelayedHalf(delay: delay, connectTo: target))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }
}

/// Reads from its own channel and writes to `peer` after the delay, in order.
final class DelayedHalf: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Item { case bytes(ByteBuffer), fin, close }

    let delay: TimeAmount
    var peer: (any Channel)?
    weak var partner: DelayedHalf?
    private var queue = CircularBuffer<(NIODeadline, Item)>()
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var readWanted = false
    private var queuedBytes = 0

    private let target: SocketAddress?

    init(delay: TimeAmount, connectTo target: SocketAddress? = nil) {
        self.delay = delay
        self.target = target
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// The accepting half dials the far side. The kernel completed the client's handshake
    /// locally; charge what a real link would: SYN out (one delay), SYN-ACK back (another),
    /// before data moves.
    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        guard let target else { return }
        let loop = context.eventLoop.assumeIsolated()
        let delay = self.delay
        loop.scheduleTask(in: delay) { [self] in
            ClientBootstrap(group: context.eventLoop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.autoRead, value: false)
                .connect(to: target)
                .assumeIsolated()
                .whenComplete { result in
                    switch result {
                    case .success(let outbound):
                        let far = DelayedHalf(delay: delay)
                        try? outbound.pipeline.syncOperations.addHandler(far)
                        self.peer = outbound
                        far.peer = context.channel
                        self.partner = far
                        far.partner = self
                        outbound.read()
                        loop.scheduleTask(in: delay) { context.read() }
                    case .failure:
                        context.close(promise: nil)
                    }
                }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        queuedBytes += bytes.readableBytes
        enqueue(.bytes(bytes), context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Keep reading unless the far side pushes back or far too much is in flight.
        if (peer?.isWritable ?? false) && queuedBytes < 256 << 20 { context.read() } else { readWanted = true }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { enqueue(.fin, context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // What is still on its way is delivered first, as on a real link.
        enqueue(.close, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // Our channel is the partner's output: let it read again.
        if context.channel.isWritable { partner?.resumeReading() }
    }

    func resumeReading() {
        if readWanted, let context {
            readWanted = false
            context.read()
        }
    }

    private func enqueue(_ item: Item, context: ChannelHandlerContext) {
        queue.append((.now() + delay, item))
        if timer == nil { schedule(context: context) }
    }

    private func schedule(context: ChannelHandlerContext) {
        guard let (deadline, _) = queue.first else { timer = nil; return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            drain(context: context)
        }
    }

    private func drain(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        guard let peer else { return }
        var wrote = false
        while let (deadline, item) = queue.first, deadline <= now {
            queue.removeFirst()
            switch item {
            case .bytes(let b):
                queuedBytes -= b.readableBytes
                peer.write(b, promise: nil)
                wrote = true
            case .fin:
                peer.writeAndFlush(ByteBuffer()).whenComplete { _ in peer.close(mode: .output, promise: nil) }
            case .close:
                peer.writeAndFlush(ByteBuffer()).whenComplete { _ in peer.close(promise: nil) }
            }
        }
        if wrote { peer.flush() }
        schedule(context: context)
        if queuedBytes < 128 << 20 && peer.isWritable { resumeReading() }
    }
}
