import AgentConfig
import NIOCore
import NIOPosix
import NetworkAddress
import Tunnel
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The agent's sockets: a listener per taken-over port (TCP or UDP), the tunnel listener clients
/// claim their sessions on, and the `AgentRouter` that decides where each connection goes.
///
/// Everything runs on one event loop: a connection accepted on an agent port and the claimed
/// tunnel it is bridged to must share a loop (`TunnelSocketBridge`), and a sidecar's traffic
/// is one pod's. All state is confined to that loop; the session reaches it with `update`.
public final class AgentDataPlane: @unchecked Sendable {
    public let loop: any EventLoop
    /// How long a connection to an intercepted port waits for its client to claim a tunnel.
    public let claimWait: TimeAmount
    var router: AgentRouter
    let logger: Logger
    var tunnels: [String: AgentTunnel] = [:]
    private var waiters: [Waiter] = []
    private var listeners: [any Channel] = []
    /// How long an intercepted connection's first bytes are waited for, to ride in the OPEN
    /// (a protocol where the server speaks first pays it once per connection).
    static let firstDataWait: TimeAmount = .milliseconds(10)
    /// A client that vanished (a laptop closed, no FIN) must not keep its claim, and the
    /// connections opened toward it, for long: pings every 5 s, gone after 15 s of silence.
    static let tunnelConfiguration: TunnelConfiguration = {
        var configuration = TunnelConfiguration()
        configuration.keepAliveInterval = .seconds(5)
        configuration.keepAliveTimeout = .seconds(15)
        return configuration
    }()
    /// The bound tunnel port (the config's, or the one the system chose for port 0).
    public private(set) var tunnelPort = 0

    private struct Waiter {
        let channel: any Channel
        let agentPort: Int
        let session: String
        let timer: Scheduled<Void>
    }

    /// Streams toward a client (`connect(.client)`) waiting for its claim.
    var streamWaiters: [(id: Int, session: String, open: () -> Void, timer: Scheduled<Void>)] = []
    var nextWaiterID = 0

    /// What the agent tells the manager outside of reviews: a wiretap's copy was cut (sent as
    /// ReviewIntercept ACTIVE with the message).
    public let notices: AsyncStream<EngagementNotice>
    let noticeSink: AsyncStream<EngagementNotice>.Continuation
    /// When each engagement was last told of a cut: one notice per `noticeInterval`, however
    /// many connections were cut.
    var lastNotice: [String: NIODeadline] = [:]
    static let noticeInterval: TimeAmount = .seconds(10)

    init(config: AgentConfig, loop: any EventLoop, claimWait: TimeAmount, logger: Logger) {
        self.loop = loop
        self.claimWait = claimWait
        self.router = AgentRouter(config: config)
        self.logger = logger
        (notices, noticeSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
    }

    /// Listens on every intercept's agent port and on the tunnel port (all on `host`).
    public static func start(
        config: AgentConfig, loop: any EventLoop, host: String = "0.0.0.0", claimWait: TimeAmount = .seconds(5),
        udpIdleTimeout: TimeAmount = .seconds(60), logger: Logger = Logger(label: "traffic-agent")
    ) async throws -> AgentDataPlane {
        let plane = AgentDataPlane(config: config, loop: loop, claimWait: claimWait, logger: logger)
        do {
            for container in config.containers {
                for intercept in container.intercepts {
                    let channel: any Channel
                    if intercept.protocol.uppercased() == "UDP" {
                        let agentPort = intercept.agentPort
                        channel = try await UDPAgentPort.listen(
                            host: host, port: agentPort, appPort: intercept.containerPort, loop: loop, idleTimeout: udpIdleTimeout,
                            route: { plane.udpRoute(agentPort: agentPort) }
                        ).get()
                    } else {
                        channel = try await plane.listenTCP(host: host, agentPort: intercept.agentPort).get()
                    }
                    try await loop.submit { plane.listeners.append(channel) }.get()
                }
            }
            let tunnel = try await plane.listenTunnel(host: host, port: config.tunnelPort).get()
            try await loop.submit {
                plane.listeners.append(tunnel)
                plane.tunnelPort = tunnel.localAddress?.port ?? config.tunnelPort
            }.get()
        } catch {
            await plane.close()
            throw AgentListenError(reason: "\(error)")
        }
        return plane
    }

    /// Closes every listener (connections in flight end with their peers).
    public func close() async {
        let channels = (try? await loop.submit { () -> [any Channel] in
            defer { self.listeners = [] }
            return self.listeners
        }.get()) ?? []
        for channel in channels { try? await channel.close() }
    }

    // MARK: The session's side

    /// A snapshot of the workload's intercepts: returns the reviews owed to the manager. Held
    /// connections whose intercept went away go to the app now.
    public func update(snapshot: [InterceptAssignment]) -> EventLoopFuture<[InterceptReview]> {
        loop.submit {
            let (reviews, removed) = self.router.apply(snapshot: snapshot)
            if !removed.isEmpty { self.logger.info("intercepts ended: \(removed.joined(separator: ", "))") }
            self.redispatchWaiters()
            return reviews
        }
    }

    /// A new session with the manager: every intercept will be reviewed again.
    public func sessionRestarted() -> EventLoopFuture<Void> {
        loop.submit { self.router.sessionRestarted() }
    }

    /// The router's state (tests).
    public func routerSnapshot() -> EventLoopFuture<AgentRouter> {
        loop.submit { self.router }
    }

    /// Live UDP pass-through flows (tests).
    public func udpFlowCount() async throws -> Int {
        try await loop.submit {
            self.listeners.compactMap { try? $0.pipeline.syncOperations.handler(type: UDPAgentPort.self) }.map(\.flowCount).reduce(0, +)
        }.get()
    }

    // MARK: Agent ports

    private func listenTCP(host: String, agentPort: Int) -> EventLoopFuture<any Channel> {
        ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // The child is registered after this returns: dispatch once it is. What it
                // delivers meanwhile is held for the handler its route adds.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HeldInput())
                    channel.eventLoop.execute { self.dispatch(channel, agentPort: agentPort) }
                }
            }
            .bind(host: host, port: agentPort)
    }

    private func dispatch(_ channel: any Channel, agentPort: Int) {
        loop.preconditionInEventLoop()
        if router.needsHTTP(agentPort: agentPort) {
            readHTTP(channel, agentPort: agentPort)
        } else {
            dispatchWhole(channel, agentPort: agentPort)
        }
    }

    /// A connection carried as a whole, its bytes copied to the port's unfiltered wiretaps.
    private func dispatchWhole(_ channel: any Channel, agentPort: Int) {
        let copied = (try? channel.pipeline.syncOperations.handler(type: ConnectionCopier.self)) != nil
        let copies = copied ? [] : router.connectionCopies(agentPort: agentPort).map { WiretapCopy(target: $0, provider: self) }
        if !copies.isEmpty {
            // After HeldInput, so what it holds is copied too.
            do {
                try channel.pipeline.syncOperations.addHandler(ConnectionCopier(copies: copies))
            } catch {
                for copy in copies { copy.close() }
            }
        }
        switch router.route(agentPort: agentPort) {
        case .app(let containerPort):
            passThrough(channel, containerPort: containerPort)
        case .client(let session, _, let host, let port):
            guard let mux = tunnels[session]?.multiplexer else {
                hold(channel, agentPort: agentPort, session: session)
                return
            }
            bridge(channel, to: mux, targetHost: host, targetPort: port)
        case .awaitClaim(let session, _):
            hold(channel, agentPort: agentPort, session: session)
        case .noApp:
            logger.debug("a connection to replaced port \(agentPort) while nothing replaces it; reset")
            Self.reset(channel)
        case .unknownPort:
            Self.reset(channel)
        }
    }

    /// A connection read as HTTP/1.1, request by request (`HTTP1Router`).
    private func readHTTP(_ channel: any Channel, agentPort: Int) {
        let router = HTTP1Router(agentPort: agentPort, provider: self, logger: logger) { channel, buffered, inputClosed in
            // Not HTTP: carried as a whole, from its first byte.
            do {
                try channel.pipeline.syncOperations.addHandler(HeldInput(), position: .first)
                if buffered.readableBytes > 0 { channel.pipeline.fireChannelRead(buffered) }
                if inputClosed { channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
                self.dispatchWhole(channel, agentPort: agentPort)
            } catch {
                Self.reset(channel)
            }
        }
        do {
            try channel.pipeline.syncOperations.addHandler(router)
            HeldInput.release(channel)
            if channel.isActive { router.readMoreIfReady() }
        } catch {
            Self.reset(channel)
        }
    }

    /// To the app at 127.0.0.1:containerPort, bytes and half-closes both ways; a refused dial
    /// resets the client's connection.
    private func passThrough(_ client: any Channel, containerPort: Int) {
        ClientBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.autoRead, value: false)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .connect(host: "127.0.0.1", port: containerPort)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    self.logger.debug("the app refused a connection on port \(containerPort): \(error)")
                    Self.reset(client)
                case .success(let app):
                    app.pipeline.addHandler(ByteStreamRelay.handler(partner: client))
                        .flatMap { ByteStreamRelay.start(client, partner: app) }
                        .flatMap { app.setOption(.autoRead, value: true) }
                        .whenFailure { _ in
                            client.close(promise: nil)
                            app.close(promise: nil)
                        }
                }
            }
    }

    /// To the intercept's client over its claimed tunnel; the first bytes ride in the OPEN, and
    /// an OPEN_FAILED resets the connection at once.
    private func bridge(_ channel: any Channel, to mux: TunnelMultiplexer, targetHost: String, targetPort: Int) {
        let source = channel.remoteAddress.flatMap { TunnelEndpoint($0) } ?? .unspecified(.v4)
        let address = IPAddress(targetHost) ?? .v4(.loopback)
        let flow = TunnelFlow(
            transport: .tcp, source: source, destination: TunnelEndpoint(address: address, port: UInt16(clamping: targetPort)))
        do {
            try channel.pipeline.syncOperations.addHandler(
                TunnelSocketBridge(mode: .opening(mux, flow, firstDataWait: Self.firstDataWait)))
            HeldInput.release(channel)
            channel.setOption(.autoRead, value: true).whenFailure { _ in }
        } catch {
            Self.reset(channel)
        }
    }

    /// Where a new UDP flow on `agentPort` goes (datagrams are not held: without a tunnel they
    /// are dropped, and the sender retries).
    func udpRoute(agentPort: Int) -> UDPRoute {
        switch router.route(agentPort: agentPort) {
        case .app: return .app
        case .client(let session, _, let host, let port):
            guard let mux = tunnels[session]?.multiplexer else { return .drop }
            return .client(mux, TunnelEndpoint(address: IPAddress(host) ?? .v4(.loopback), port: UInt16(clamping: port)))
        case .awaitClaim, .noApp, .unknownPort: return .drop
        }
    }

    /// An active intercept whose client has no claimed tunnel: the connection waits (unread)
    /// for a claim, at most `claimWait`, then is reset.
    private func hold(_ channel: any Channel, agentPort: Int, session: String) {
        let timer = loop.assumeIsolated().scheduleTask(in: claimWait) {
            self.waiters.removeAll { $0.channel === channel }
            self.logger.info("no tunnel claimed by session \(session) within \(self.claimWait.nanoseconds / 1_000_000) ms; connection reset")
            Self.reset(channel)
        }
        waiters.append(Waiter(channel: channel, agentPort: agentPort, session: session, timer: timer))
    }

    /// Sends held connections where they go now (a claim arrived, an intercept ended).
    private func redispatchWaiters() {
        let held = waiters
        waiters = []
        for waiter in held {
            switch router.route(agentPort: waiter.agentPort) {
            case .awaitClaim(let session, _) where session == waiter.session:
                waiters.append(waiter)
            case .client(let session, _, _, _) where session == waiter.session && tunnels[session]?.multiplexer == nil:
                waiters.append(waiter)
            default:
                waiter.timer.cancel()
                dispatchWhole(waiter.channel, agentPort: waiter.agentPort)
            }
        }
    }

    /// Closes with RST (SO_LINGER 0): the peer sees the failure at once, never a hang.
    static func reset(_ channel: any Channel) {
        guard let provider = channel as? any SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }

    // MARK: The tunnel port

    private func listenTunnel(host: String, port: Int) -> EventLoopFuture<any Channel> {
        ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: TunnelConfiguration.socketReceiveAllocator)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tunnel = AgentTunnel(plane: self)
                    let mux = TunnelMultiplexer(role: .responder, configuration: Self.tunnelConfiguration) { [unowned tunnel] stream, open in
                        tunnel.inbound(stream, open)
                    }
                    tunnel.multiplexer = mux
                    mux.onClose = { _ in self.tunnelClosed(tunnel) }
                    try channel.pipeline.syncOperations.addHandler(mux)
                }
            }
            .bind(host: host, port: port)
    }

    /// A claim for `session` on `tunnel`: accepted when that client holds an intercept here.
    func claim(_ session: String, tunnel: AgentTunnel) -> String? {
        guard router.mayClaim(session: session) else {
            return "session \(session) holds no intercept on the traffic-agent of \(router.config.agentName)"
        }
        tunnels[session] = tunnel
        router.claimed(session: session)
        logger.info("session \(session) claimed a tunnel")
        redispatchWaiters()
        let ready = streamWaiters.filter { $0.session == session }
        streamWaiters.removeAll { $0.session == session }
        for waiter in ready {
            waiter.timer.cancel()
            waiter.open()
        }
        return nil
    }

    /// The tunnel's claim ended or the tunnel closed: its session's connections wait for a new one.
    func tunnelClosed(_ tunnel: AgentTunnel) {
        guard let session = tunnel.session else { return }
        tunnel.session = nil
        if tunnels[session] === tunnel {
            tunnels[session] = nil
            router.unclaimed(session: session)
            logger.info("the tunnel of session \(session) closed")
        }
    }
}

/// A port the agent could not listen on.
public struct AgentListenError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "traffic-agent: cannot listen on its ports (\(reason)); another container of the pod may use them" }
}
