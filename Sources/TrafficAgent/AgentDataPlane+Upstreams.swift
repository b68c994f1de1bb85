import NIOCore
import NIOPosix
import NetworkAddress
import Tunnel

#if canImport(Glibc)
import Glibc
#endif

/// One thing the agent tells the manager about an engagement outside of its review.
public struct EngagementNotice: Sendable, Hashable {
    public var engagementID: String
    public var message: String
}

/// What the HTTP readers (`HTTP1Router`, `HTTP2Splitter`) and wiretap copies ask of the data
/// plane, on its event loop.
extension AgentDataPlane: HTTPUpstreamProvider {
    public func route(agentPort: Int, request: HTTPRequestSummary) -> HTTPRequestRoute {
        router.route(agentPort: agentPort, request: request)
    }

    /// The app: a TCP connection to 127.0.0.1:containerPort (none for a replaced container's
    /// port: the agent itself listens there). A client: one end of a socket pair whose other end
    /// is bridged to a new stream on the client's claimed tunnel (waiting for the claim up to
    /// `claimWait`); the stream's OPEN_FAILED or reset closes the pair with RST.
    public func connect(_ upstream: HTTPUpstream) -> EventLoopFuture<any Channel> {
        loop.preconditionInEventLoop()
        switch upstream {
        case .app(let containerPort):
            let replaced = router.config.containers.contains { c in
                c.intercepts.contains { $0.containerPort == containerPort && $0.agentPort == containerPort }
            }
            guard !replaced else { return loop.makeFailedFuture(NoAppError(port: containerPort)) }
            return ClientBootstrap(group: loop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelOption(.autoRead, value: false)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .connect(host: "127.0.0.1", port: containerPort)
        case .client(let session, _, let host, let port):
            let promise = loop.makePromise(of: (any Channel).self)
            let open = { [self] in
                guard let mux = tunnels[session]?.multiplexer else {
                    promise.fail(NoTunnelError(session: session))
                    return
                }
                promise.completeWith(streamChannel(on: mux, targetHost: host, targetPort: port))
            }
            if tunnels[session]?.multiplexer != nil {
                open()
            } else {
                nextWaiterID += 1
                let id = nextWaiterID
                let timer = loop.assumeIsolated().scheduleTask(in: claimWait) { [self] in
                    streamWaiters.removeAll { $0.id == id }
                    promise.fail(NoTunnelError(session: session))
                }
                streamWaiters.append((id, session, open, timer))
            }
            return promise.futureResult
        }
    }

    public func copyCut(_ upstream: HTTPUpstream, reason: String) {
        guard case .client(_, let id, _, _) = upstream else { return }
        logger.info("a wiretap copy for \(id) was cut: \(reason)")
        let now = NIODeadline.now()
        if let last = lastNotice[id], now - last < Self.noticeInterval { return }
        lastNotice[id] = now
        noticeSink.yield(EngagementNotice(
            engagementID: id, message: "the traffic-agent cut a copy of a connection: \(reason); the app's clients are not held up"))
    }

    /// A socket pair: one end carries a `TunnelSocketBridge` that opens a stream toward the
    /// client (the same bridge an intercepted connection uses), the other is returned. The pair
    /// costs one local copy per byte, and keeps every stream rule (half-closes, resets,
    /// back-pressure) in the one bridge.
    private func streamChannel(on mux: TunnelMultiplexer, targetHost: String, targetPort: Int) -> EventLoopFuture<any Channel> {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            return loop.makeFailedFuture(IOError(errnoCode: errno, reason: "socketpair"))
        }
        let flow = TunnelFlow(
            transport: .tcp, source: .unspecified(.v4),
            destination: TunnelEndpoint(address: IPAddress(targetHost) ?? .v4(.loopback), port: UInt16(clamping: targetPort)))
        let mux = NIOLoopBound(mux, eventLoop: loop)
        let bridged = ClientBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TunnelSocketBridge(mode: .opening(mux.value, flow, firstDataWait: Self.firstDataWait)))
                }
            }
            .withConnectedSocket(fds[0])
        let ours = ClientBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.autoRead, value: false)
            .withConnectedSocket(fds[1])
        bridged.whenFailure { _ in ours.whenSuccess { $0.close(promise: nil) } }
        ours.whenFailure { _ in bridged.whenSuccess { $0.close(promise: nil) } }
        return bridged.and(ours).map { $0.1 }
    }
}

/// A replaced container's port has no app behind it.
struct NoAppError: Error, CustomStringConvertible {
    let port: Int
    var description: String { "no app listens on replaced port \(port) (the replacing client has gone)" }
}

/// No claimed tunnel of the session within the claim wait.
struct NoTunnelError: Error, CustomStringConvertible {
    let session: String
    var description: String { "session \(session) has no claimed tunnel to its workstation" }
}
