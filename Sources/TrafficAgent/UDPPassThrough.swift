import NIOCore
import NIOPosix

/// A UDP agent port passed through to the app: each peer is a flow with a socket of its own
/// toward 127.0.0.1:appPort (so the app's answers find their way back to that peer), closed
/// after `idleTimeout` without a datagram either way.
final class UDPPassThrough: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private final class Flow: @unchecked Sendable {
        var channel: (any Channel)?
        var pending: [ByteBuffer] = []
        var lastActivity = NIODeadline.now()
    }

    private let appAddress: SocketAddress
    private let idleTimeout: TimeAmount
    private var flows: [SocketAddress: Flow] = [:]
    private var listener: (any Channel)?
    private var sweep: RepeatedTask?

    init(appAddress: SocketAddress, idleTimeout: TimeAmount) {
        self.appAddress = appAddress
        self.idleTimeout = idleTimeout
    }

    static func listen(host: String, port: Int, appPort: Int, loop: any EventLoop, idleTimeout: TimeAmount) -> EventLoopFuture<any Channel> {
        do {
            let app = try SocketAddress(ipAddress: "127.0.0.1", port: appPort)
            return DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPPassThrough(appAddress: app, idleTimeout: idleTimeout))
                    }
                }
                .bind(host: host, port: port)
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        listener = context.channel
        let interval = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 4, 10_000_000))
        sweep = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            let now = NIODeadline.now()
            for (peer, flow) in flows where now - flow.lastActivity > idleTimeout {
                flows[peer] = nil
                flow.channel?.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sweep?.cancel()
        for flow in flows.values { flow.channel?.close(promise: nil) }
        flows = [:]
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let peer = envelope.remoteAddress
        if let flow = flows[peer] {
            flow.lastActivity = .now()
            if let channel = flow.channel {
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: appAddress, data: envelope.data), promise: nil)
            } else {
                flow.pending.append(envelope.data)
            }
            return
        }
        let flow = Flow()
        flow.pending.append(envelope.data)
        flows[peer] = flow
        let listener = context.channel
        let app = appAddress
        DatagramBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Reply(listener: listener, peer: peer, app: app) { flow.lastActivity = .now() })
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    guard flows[peer] === flow else {
                        channel.close(promise: nil)
                        return
                    }
                    flow.channel = channel
                    for datagram in flow.pending {
                        channel.write(AddressedEnvelope(remoteAddress: app, data: datagram), promise: nil)
                    }
                    flow.pending = []
                    channel.flush()
                case .failure:
                    flows[peer] = nil
                }
            }
    }

    /// The app's answers on one flow's socket, sent back to that flow's peer.
    private final class Reply: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        let listener: any Channel
        let peer: SocketAddress
        let app: SocketAddress
        let touched: () -> Void

        init(listener: any Channel, peer: SocketAddress, app: SocketAddress, touched: @escaping () -> Void) {
            self.listener = listener
            self.peer = peer
            self.app = app
            self.touched = touched
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard envelope.remoteAddress == app else { return }
            touched()
            listener.writeAndFlush(AddressedEnvelope(remoteAddress: peer, data: envelope.data), promise: nil)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // An ICMP port unreachable from a closed app port: the datagram is lost, as UDP's are.
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}

    /// Number of live flows (tests).
    var flowCount: Int { flows.count }
}
