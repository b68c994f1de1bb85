import ClientSupport
import Logging
import NIOCore
import NetworkAddress
import Synchronization
import Tunnel

/// The tunnels to the agents of this client's intercepts: one per agent pod, kept open (opened
/// again when it breaks) while some intercept has that pod among its agents, closed when none
/// has. Streams the agents open are dialled on the workstation only when their destination is
/// one of this client's intercept targets.
actor AgentTunnels {
    /// The state of one pod's tunnel.
    struct PodState: Sendable {
        var path: AgentPath?
        var lastError: String?
    }

    private final class Supervisor {
        let task: Task<Void, Never>
        var state = PodState()
        var tunnel: AgentTunnel?
        var waiters: [CheckedContinuation<Void, Never>] = []
        init(task: Task<Void, Never>) { self.task = task }
    }

    let opener: AgentTunnelOpener
    let logger: Logger
    /// The session id to claim with (read at each claim: it changes when the client re-arrives).
    let session: @Sendable () -> String
    /// The destinations the agents may ask this workstation to dial.
    private let targets = AllowedTargets()
    private var supervisors: [Intercept.AgentPod: Supervisor] = [:]
    /// How long to wait before opening a broken tunnel again.
    let retryDelay: Duration

    init(opener: AgentTunnelOpener, logger: Logger, retryDelay: Duration = .milliseconds(250), session: @escaping @Sendable () -> String) {
        self.opener = opener
        self.logger = logger
        self.retryDelay = retryDelay
        self.session = session
    }

    /// What the dialer of every tunnel allows: this client's intercept targets, and nothing else.
    nonisolated var dialer: TunnelDialer {
        let targets = self.targets
        return TunnelDialer(defaultTimeout: .seconds(5)) { flow in
            targets.endpoints.withLock { $0.contains(flow.destination) }
        }
    }

    /// Makes the tunnels and the allowed targets follow the intercepts: new pods get a tunnel,
    /// gone pods' tunnels close.
    func follow(_ intercepts: [Intercept]) {
        // WAITING (a new pod's agent has not confirmed yet) keeps the agents that carry it.
        let active = intercepts.filter { $0.disposition != "REMOVED" }
        targets.endpoints.withLock { $0 = Set(active.flatMap(Self.targets(of:))) }
        let wanted = Set(active.flatMap(\.agents))
        for (pod, supervisor) in supervisors where !wanted.contains(pod) {
            supervisors[pod] = nil
            supervisor.task.cancel()
            let tunnel = supervisor.tunnel
            for waiter in supervisor.waiters { waiter.resume() }
            Task { await tunnel?.close() }
            logger.info("closed the tunnel to the traffic-agent of pod \(pod.podName)")
        }
        for pod in wanted where supervisors[pod] == nil {
            supervisors[pod] = Supervisor(task: Task { await self.keep(pod) })
        }
    }

    /// The endpoints an engagement's connections are dialled at on the workstation (a
    /// replace's ports each have one; an ingest has none: its tunnel carries no connections).
    static func targets(of intercept: Intercept) -> [TunnelEndpoint] {
        let host = intercept.targetHost == "localhost" || intercept.targetHost.isEmpty ? "127.0.0.1" : intercept.targetHost
        guard let address = IPAddress(host) else { return [] }
        return intercept.targetPorts.compactMap { UInt16(exactly: $0).map { TunnelEndpoint(address: address, port: $0) } }
    }

    /// Waits until the pod's tunnel is claimed (or `timeout` passed: then the state says the
    /// last failure).
    func claimed(_ pod: Intercept.AgentPod, timeout: Duration) async -> PodState {
        let deadline = ContinuousClock.now + timeout
        while let supervisor = supervisors[pod], supervisor.state.path == nil, ContinuousClock.now < deadline {
            let timer = Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                if !Task.isCancelled { self.wakeAll(pod) }
            }
            await withCheckedContinuation { supervisor.waiters.append($0) }
            timer.cancel()
        }
        return supervisors[pod]?.state ?? PodState(lastError: "the tunnel to pod \(pod.podName) was closed")
    }

    /// The path of each claimed tunnel now.
    func states() -> [Intercept.AgentPod: PodState] {
        supervisors.mapValues(\.state)
    }

    func closeAll() async {
        follow([])
    }

    private func wakeAll(_ pod: Intercept.AgentPod) {
        guard let supervisor = supervisors[pod] else { return }
        let waiters = supervisor.waiters
        supervisor.waiters = []
        for waiter in waiters { waiter.resume() }
    }

    private func record(_ pod: Intercept.AgentPod, tunnel: AgentTunnel?, error: String?) -> Bool {
        guard let supervisor = supervisors[pod], !Task.isCancelled else { return false }
        supervisor.tunnel = tunnel
        supervisor.state = PodState(path: tunnel?.path, lastError: error)
        wakeAll(pod)
        return true
    }

    /// Keeps one pod's tunnel open until cancelled.
    private func keep(_ pod: Intercept.AgentPod) async {
        var failures = 0
        while !Task.isCancelled {
            do {
                // A port-forward can open and still fail (the agent's port not listening yet, a
                // proxy that cuts it): every other attempt after a failure goes direct.
                let tunnel = try await AgentTunnel.open(
                    pod: pod, session: session(), opener: opener, dialer: dialer, direct: failures % 2 == 1)
                guard record(pod, tunnel: tunnel, error: nil) else {
                    await tunnel.close()
                    return
                }
                logger.info("claimed the traffic-agent of pod \(pod.podName) (\(tunnel.path.rawValue))")
                failures = 0
                await withTaskCancellationHandler {
                    try? await tunnel.channel.closeFuture.get()
                } onCancel: {
                    tunnel.channel.close(promise: nil)
                }
                if Task.isCancelled { return }
                logger.info("the tunnel to the traffic-agent of pod \(pod.podName) closed; opening it again")
                _ = record(pod, tunnel: nil, error: "the tunnel to pod \(pod.podName) closed")
            } catch {
                failures += 1
                if !record(pod, tunnel: nil, error: "\(error)") { return }
                logger.debug("tunnel to pod \(pod.podName): \(error)")
            }
            let delay = retryDelay * min(failures + 1, 8)
            try? await Task.sleep(for: delay)
        }
    }
}

/// The workstation endpoints agents may ask for, shared with every tunnel's dialer.
final class AllowedTargets: Sendable {
    let endpoints = Mutex<Set<TunnelEndpoint>>([])
}
