import NIOCore
import NIOPosix
import Tunnel

/// Where a UDP peer's datagrams go now.
enum UDPRoute {
    /// To the app at 127.0.0.1:appPort.
    case app
    /// To the intercept's client, as a datagram stream on its claimed tunnel.
    case client(TunnelMultiplexer, TunnelEndpoint)
    /// An active intercept whose client has no tunnel: dropped (UDP's sender retries).
    case drop

    /// Whether a flow opened for `self` may carry on under `other`.
    func same(as other: UDPRoute) -> Bool {
        switch (self, other) {
        case (.app, .app): true
        case (.client(let a, let x), .client(let b, let y)): a === b && x == y
        default: false
        }
    }
}

/// A UDP agent port: each peer is a flow, either with a socket of its own toward
/// 127.0.0.1:appPort (so the app's answers find their way back to that peer) or, while the
/// port is intercepted, a datagram stream on the client's claimed tunnel (the first datagram
/// rides in the OPEN). A flow is closed after `idleTimeout` without a datagram either way, and
/// when the port's route changes (an intercept starts or ends).
final class UDPAgentPort: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private final class Flow: @unchecked Sendable {
        let route: UDPRoute
        var channel: (any Channel)?
        var stream: TunnelStream?
        var pending: [ByteBuffer] = []
        var lastActivity = NIODeadline.now()
        init(route: UDPRoute) { self.route = route }

        func close() {
            channel?.close(promise: nil)
            stream?.reset(.idleTimeout)
        }
    }

    private let appAddress: SocketAddress
    private let idleTimeout: TimeAmount
    private let route: () -> UDPRoute
    private var flows: [SocketAddress: Flow] = [:]
    private var sweep: RepeatedTask?

    init(appAddress: SocketAddress, idleTimeout: TimeAmount, route: @escaping () -> UDPRoute) {
        self.appAddress = appAddress
        self.idleTimeout = idleTimeout
        self.route = route
    }

    static func listen(
        host: String, port: Int, appPort: Int, loop: any EventLoop, idleTimeout: TimeAmount, route: @escaping @Sendable () -> UDPRoute
    ) -> EventLoopFuture<any Channel> {
        do {
            let app = try SocketAddress(ipAddress: "127.0.0.1", port: appPort)
            return DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UDPAgentPort(appAddress: app, idleTimeout: idleTimeout, route: route))
                    }
                }
                .bind(host: host, port: port)
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let interval = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 4, 10_000_000))
        sweep = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { [self] _ in
            let now = NIODeadline.now()
            for (peer, flow) in flows where now - flow.lastActivity > idleTimeout {
                flows[peer] = nil
                flow.close()
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sweep?.cancel()
        for flow in flows.values { flow.close() }
        flows = [:]
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let peer = envelope.remoteAddress
        let now = route()
        if let flow = flows[peer] {
            if flow.route.same(as: now) {
                flow.lastActivity = .now()
                if let stream = flow.stream {
                    _ = try? stream.writeDatagram(envelope.data)
                } else if let channel = flow.channel {
                    channel.writeAndFlush(AddressedEnvelope(remoteAddress: appAddress, data: envelope.data), promise: nil)
                } else {
                    flow.pending.append(envelope.data)
                }
                return
            }
            flows[peer] = nil
            flow.close()
        }
        switch now {
        case .drop:
            return
        case .client(let mux, let destination):
            openStream(peer: peer, datagram: envelope.data, mux: mux, destination: destination, listener: context.channel, route: now)
        case .app:
            openAppFlow(peer: peer, datagram: envelope.data, listener: context.channel, loop: context.eventLoop)
        }
    }

    private func openStream(peer: SocketAddress, datagram: ByteBuffer, mux: TunnelMultiplexer, destination: TunnelEndpoint,
                            listener: any Channel, route: UDPRoute) {
        let flow = Flow(route: route)
        let source = TunnelEndpoint(peer) ?? .unspecified(.v4)
        let reply = StreamReply(listener: listener, peer: peer, touched: { flow.lastActivity = .now() }, closed: { [weak self, weak flow] in
            guard let self, let flow, self.flows[peer] === flow else { return }
            self.flows[peer] = nil
        })
        do {
            flow.stream = try mux.openStream(
                flow: TunnelFlow(transport: .udp, source: source, destination: destination), initialData: datagram, delegate: reply)
            flows[peer] = flow
        } catch {
            // The tunnel is going away: the datagram is lost, as UDP's may be.
        }
    }

    private func openAppFlow(peer: SocketAddress, datagram: ByteBuffer, listener: any Channel, loop: any EventLoop) {
        let flow = Flow(route: .app)
        flow.pending.append(datagram)
        flows[peer] = flow
        let app = appAddress
        DatagramBootstrap(group: loop)
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
                    if flows[peer] === flow { flows[peer] = nil }
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

    /// The client's answers on one flow's stream, sent back to that flow's peer.
    private final class StreamReply: TunnelStreamDelegate {
        let listener: any Channel
        let peer: SocketAddress
        let touched: () -> Void
        let closed: () -> Void

        init(listener: any Channel, peer: SocketAddress, touched: @escaping () -> Void, closed: @escaping () -> Void) {
            self.listener = listener
            self.peer = peer
            self.touched = touched
            self.closed = closed
        }

        func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {
            touched()
            listener.write(AddressedEnvelope(remoteAddress: peer, data: bytes), promise: nil)
        }

        func tunnelStreamReadComplete(_ stream: TunnelStream) {
            listener.flush()
        }

        func tunnelStreamDidReceiveFIN(_ stream: TunnelStream) {
            stream.finish()
        }

        func tunnelStreamDidClose(_ stream: TunnelStream) {
            closed()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}

    /// Number of live flows (tests).
    var flowCount: Int { flows.count }
}
