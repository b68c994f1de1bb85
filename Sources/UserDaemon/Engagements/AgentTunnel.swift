import ClientSupport
import KubeClient
import Synchronization
import NIOCore
import NIOPosix
import Tunnel

/// How intercepted connections reach the workstation, as InterceptResult.path says it.
enum AgentPath: String, Sendable {
    /// A port-forward through the API server straight to the agent's pod (Telepresence's
    /// `agentPortForward`).
    case portForward = "agent port-forward"
    /// A TCP connection to the pod's IP through the workstation's cluster network (the root
    /// daemon routes pod subnets into the manager's tunnel).
    case traffic = "through the traffic-manager"
}

/// Opens the byte stream under an agent tunnel: a port-forward to the agent pod's tunnel port,
/// or, when that fails (or there is no API client), TCP to podIP:tunnelPort.
struct AgentTunnelOpener: Sendable {
    /// nil: no port-forward is tried (tests with a fake agent on 127.0.0.1).
    var client: KubeClient?
    var connectTimeout: TimeAmount = .seconds(5)

    /// `direct` skips the port-forward (a retry after a port-forward that opened but failed).
    func open(
        _ pod: Intercept.AgentPod, direct: Bool = false, configure: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> (any Channel, AgentPath) {
        var portForwardFailure: (any Error)?
        if let client, !direct {
            do {
                let channel = try await client.portForwardChannel(
                    pod: pod.podName, namespace: pod.namespace, port: pod.tunnelPort, configure: configure)
                return (channel, .portForward)
            } catch {
                portForwardFailure = error
            }
        }
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(connectTimeout)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try configure(channel) } }
                .connect(host: pod.podIP, port: pod.tunnelPort).get()
            return (channel, .traffic)
        } catch {
            let direct = "\(pod.podIP):\(pod.tunnelPort) did not answer (\(error))"
            if let portForwardFailure {
                throw AgentTunnelError("the traffic-agent of pod \(pod.podName) is unreachable: the port-forward failed (\(portForwardFailure)) and \(direct)")
            }
            throw AgentTunnelError("the traffic-agent of pod \(pod.podName) is unreachable: \(direct)")
        }
    }
}

/// Why a tunnel to an agent could not be opened or claimed.
struct AgentTunnelError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One tunnel to one agent pod, claimed for this client's session: the agent opens a stream
/// for each intercepted connection, and `dialer` dials it on the workstation (only the
/// targets of this client's intercepts; anything else is refused).
final class AgentTunnel: Sendable {
    let pod: Intercept.AgentPod
    let channel: any Channel
    let path: AgentPath

    private init(pod: Intercept.AgentPod, channel: any Channel, path: AgentPath) {
        self.pod = pod
        self.channel = channel
        self.path = path
    }

    /// Opens the byte stream, starts the multiplexer (initiator) and claims `session` on it;
    /// returns once the agent answered OPEN_OK, throws with the agent's reason otherwise.
    static func open(
        pod: Intercept.AgentPod, session: String, opener: AgentTunnelOpener, dialer: TunnelDialer,
        direct: Bool = false, claimTimeout: TimeAmount = .seconds(10)
    ) async throws -> AgentTunnel {
        let multiplexer = MultiplexerBox()
        let (channel, path) = try await opener.open(pod, direct: direct) { channel in
            let mux = TunnelMultiplexer(role: .initiator) { stream, open in dialer.handle(stream, open) }
            try channel.pipeline.syncOperations.addHandler(mux)
            multiplexer.set(mux)
        }
        let claimed = channel.eventLoop.makePromise(of: Void.self)
        do {
            try await channel.eventLoop.submit {
                guard let mux = multiplexer.get() else { throw AgentTunnelError("the tunnel has no multiplexer") }
                mux.onClose = { error in
                    claimed.fail(AgentTunnelError("the traffic-agent of pod \(pod.podName) closed the tunnel\(error.map { ": \($0)" } ?? "")"))
                }
                _ = try mux.openStream(
                    flow: TunnelClaim.flow, initialData: TunnelClaim.payload(session: session),
                    delegate: ClaimDelegate(pod: pod.podName, promise: claimed))
            }.get()
            let timeout = channel.eventLoop.scheduleTask(in: claimTimeout) {
                claimed.fail(AgentTunnelError("the traffic-agent of pod \(pod.podName) did not answer the claim within \(claimTimeout.nanoseconds / 1_000_000_000) s"))
            }
            defer { timeout.cancel() }
            try await claimed.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return AgentTunnel(pod: pod, channel: channel, path: path)
    }

    func close() async {
        try? await channel.close()
    }
}

/// The claim stream: it stays open while the claim holds; its OPEN_OK or OPEN_FAILED settles
/// the claim.
private final class ClaimDelegate: TunnelStreamDelegate {
    let pod: String
    let promise: EventLoopPromise<Void>

    init(pod: String, promise: EventLoopPromise<Void>) {
        self.pod = pod
        self.promise = promise
    }

    func tunnelStreamDidOpen(_ stream: TunnelStream) {
        promise.succeed(())
    }

    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {}

    func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {
        promise.fail(AgentTunnelError("the traffic-agent of pod \(pod) refused this client's claim (\(reason)\(message.isEmpty ? "" : ": \(message)"))"))
    }

    func tunnelStream(_ stream: TunnelStream, didReset reason: TunnelResetReason) {
        promise.fail(AgentTunnelError("the traffic-agent of pod \(pod) ended the claim (\(reason))"))
    }

    func tunnelStreamDidClose(_ stream: TunnelStream) {
        promise.fail(AgentTunnelError("the traffic-agent of pod \(pod) ended the claim"))
    }
}

/// Hands the multiplexer made in the channel's initializer to the code that claims on it; both
/// run on the channel's event loop.
private final class MultiplexerBox: @unchecked Sendable {
    private let lock = Mutex<Void>(())
    private var multiplexer: TunnelMultiplexer?
    func set(_ mux: TunnelMultiplexer) { lock.withLock { _ in multiplexer = mux } }
    func get() -> TunnelMultiplexer? { lock.withLock { _ in multiplexer } }
}
