import ClientSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KubeClient
import Logging
import RPC
import SwiftProtobuf
import Synchronization

/// The connector's session with the traffic-manager: one gRPC client over a `ManagerLink`, the
/// session id from ArriveAsClient, a keepalive (Remain) loop that re-arrives when the manager
/// forgot the session (expired, or a new manager pod), and the cluster info the manager pushes.
/// While the link is down, `state` is `reconnecting`; gRPC re-dials by itself (the port-forward
/// relay then opens a new port-forward), and the next successful call makes it `connected`.
/// This is the edge to the manager's API: manager.proto's messages stay in this file, what
/// leaves it is the domain's (`ClusterInfo`, `Workload`).
public final class ManagerSession: Sendable {
    public typealias State = ConnectionInfo.SessionState

    struct Snapshot: Sendable {
        var state: State = .connected
        var session = Telepresence_Manager_SessionInfo()
        var clusterInfo = ClusterInfo()
        var managerVersion = ComponentVersion(name: "", version: "")
        var reconnects = 0

        var sessionID: String { session.sessionID }
        var clusterID: String { session.clusterID }
    }

    let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    let manager: Telepresence_Manager_Manager.Client<HTTP2ClientTransport.Posix>
    let link: ManagerLink
    let identity: Telepresence_Manager_ClientInfo
    let logger: Logger
    private let snapshot = Mutex(Snapshot())
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let clusterInfoObserver = Mutex<(@Sendable (ClusterInfo) -> Void)?>(nil)
    /// How often Remain is called while all is well.
    let keepaliveInterval: Duration

    /// How long one call to the manager may take before the link counts as down.
    static let callTimeout: Duration = .seconds(5)

    private init(link: ManagerLink, identity: ClientIdentity, keepaliveInterval: Duration, logger: Logger) throws {
        let target: any ResolvableTarget = switch link.address {
        case .tcp(let host, let port): ResolvableTargets.IPv4.ipv4(address: host, port: port)
        case .unix(let path): ResolvableTargets.UnixDomainSocket.unixDomainSocket(path: path)
        }
        var config = HTTP2ClientTransport.Posix.Config.defaults
        // Re-dial fast: a cut port-forward should be back within a couple of seconds.
        config.backoff = .init(initial: .milliseconds(50), max: .milliseconds(500), multiplier: 1.6, jitter: 0.2)
        config.connection.maxIdleTime = nil
        let transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: .plaintext, config: config)
        grpc = GRPCClient(transport: transport)
        manager = Telepresence_Manager_Manager.Client(wrapping: grpc)
        self.link = link
        self.identity = identity.wire
        self.keepaliveInterval = keepaliveInterval
        self.logger = logger
    }

    /// Opens the link, arrives, and waits for the first cluster info. Sequential round trips:
    /// the link, HTTP/2's settings, then Version, ArriveAsClient and the first ClusterInfo together.
    public static func open(
        dialer: any ManagerDialer, pod: ManagerPod, identity: ClientIdentity,
        keepaliveInterval: Duration = .seconds(5), timeout: Duration, logger: Logger
    ) async throws -> ManagerSession {
        let lost = Mutex<ManagerSession?>(nil)
        let link = try await dialer.open(pod: pod) {
            lost.withLock { $0 }?.linkLost()
        }
        let session: ManagerSession
        do {
            session = try ManagerSession(link: link, identity: identity, keepaliveInterval: keepaliveInterval, logger: logger)
        } catch {
            await link.close()
            throw error
        }
        lost.withLock { $0 = session }
        session.addTask { [grpc = session.grpc] in
            do { try await grpc.runConnections() } catch { logger.warning("gRPC client to the traffic-manager stopped: \(error)") }
        }
        do {
            try await withDeadline(timeout) {
                // One round trip for all three: the cluster info needs no session.
                async let version = session.manager.version(request: ClientRequest(message: Google_Protobuf_Empty()))
                async let arrived = session.manager.arriveAsClient(request: ClientRequest(message: session.identity))
                async let info: Void = session.firstClusterInfo()
                let (v, s, _) = try await (version, arrived, info)
                session.snapshot.withLock {
                    $0.managerVersion = ComponentVersion(name: v.name, version: v.version)
                    $0.session = s
                }
            }
        } catch {
            await session.close(depart: false)
            throw ConnectError.managerUnreachable(namespace: pod.namespace, reason: link.lastFailure() ?? Self.describe(error))
        }
        session.addTask { await session.keepAlive() }
        return session
    }

    var current: Snapshot { snapshot.withLock { $0 } }

    /// Called with every cluster info the manager pushes from now on (new pod subnets, say),
    /// also the same one again after the link came back.
    func observeClusterInfo(_ observer: @escaping @Sendable (ClusterInfo) -> Void) {
        clusterInfoObserver.withLock { $0 = observer }
    }

    /// Waits for the first ClusterInfo, then keeps watching in the background.
    private func firstClusterInfo() async throws {
        let (first, firstContinuation) = AsyncThrowingStream.makeStream(of: Void.self)
        addTask { await self.watchClusterInfo(signal: firstContinuation) }
        for try await _ in first { return }
        throw RPCError(code: .unavailable, message: "the traffic-manager ended the cluster info stream")
    }

    private func watchClusterInfo(signal first: AsyncThrowingStream<Void, any Error>.Continuation) async {
        // Signalled once, on the first message (or the first failure).
        let signal = Mutex<AsyncThrowingStream<Void, any Error>.Continuation?>(first)
        while !Task.isCancelled {
            let session = current.session
            do {
                try await manager.watchClusterInfo(request: ClientRequest(message: session)) { response in
                    for try await message in response.messages {
                        let info = ClusterInfo(wire: message)
                        self.snapshot.withLock { $0.clusterInfo = info }
                        self.clusterInfoObserver.withLock { $0 }?(info)
                        if let pending = signal.withLock({ s -> AsyncThrowingStream<Void, any Error>.Continuation? in defer { s = nil }; return s }) {
                            pending.yield()
                            pending.finish()
                        }
                    }
                }
            } catch {
                if let pending = signal.withLock({ s -> AsyncThrowingStream<Void, any Error>.Continuation? in defer { s = nil }; return s }) {
                    pending.finish(throwing: error)
                    return
                }
                logger.debug("cluster info stream ended: \(error)")
            }
            // The stream lives as long as the connection: its end means the link (or the
            // manager) went away; the keepalive loop then retries at once.
            if Task.isCancelled { return }
            linkLost()
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Remain every `keepaliveInterval`, and every 100 ms while the link is down (so a restored
    /// link shows as connected at once); re-arrive when the manager no longer knows the session.
    private func keepAlive() async {
        var last = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
            if Task.isCancelled { return }
            if current.state == .connected && ContinuousClock.now - last < keepaliveInterval { continue }
            await remainOnce()
            last = ContinuousClock.now
        }
    }

    func remainOnce() async {
        let session = current.session
        do {
            try await withDeadline(Self.callTimeout) {
                _ = try await self.manager.remain(request: ClientRequest(message: .with { $0.session = session }))
            }
            markConnected()
        } catch let error as RPCError where error.code == .notFound {
            logger.info("the traffic-manager forgot session \(session.sessionID); arriving again")
            do {
                let fresh = try await withDeadline(Self.callTimeout) {
                    try await self.manager.arriveAsClient(request: ClientRequest(message: self.identity))
                }
                snapshot.withLock { $0.session = fresh }
                markConnected()
            } catch {
                markReconnecting()
            }
        } catch {
            logger.debug("keepalive failed: \(error)")
            markReconnecting()
        }
    }

    private func markConnected() {
        let was = snapshot.withLock { snapshot -> State in
            let was = snapshot.state
            if was == .reconnecting { snapshot.reconnects += 1 }
            snapshot.state = .connected
            return was
        }
        if was == .reconnecting { logger.info("connection to the traffic-manager re-established") }
    }

    private func markReconnecting() {
        snapshot.withLock { $0.state = .reconnecting }
    }

    /// Called by the link when the connection under gRPC broke.
    func linkLost() {
        let changed = snapshot.withLock { snapshot -> Bool in
            defer { snapshot.state = .reconnecting }
            return snapshot.state == .connected
        }
        if changed { logger.info("connection to the traffic-manager lost; reconnecting") }
    }

    /// The workloads of a namespace (the first message of the manager's stream).
    func workloads(namespace: String) async throws -> [Workload] {
        let session = current.session
        return try await withDeadline(Self.callTimeout) {
            try await self.manager.watchWorkloads(request: ClientRequest(message: .with {
                $0.sessionInfo = session
                $0.namespace = namespace
            })) { response in
                for try await delta in response.messages where delta.snapshot {
                    return delta.events.map { Workload(wire: $0.workload) }
                }
                return []
            }
        }
    }

    func setManagerLogLevel(_ level: String, seconds: Int64) async throws {
        try await withDeadline(Self.callTimeout) {
            _ = try await self.manager.setLogLevel(request: ClientRequest(message: .with {
                $0.logLevel = level
                if seconds > 0 { $0.duration = .with { $0.seconds = seconds } }
            }))
        }
    }

    /// Departs (when asked and possible), stops gRPC and the link.
    public func close(depart: Bool = true) async {
        if depart {
            let session = current.session
            _ = try? await withDeadline(.seconds(2)) {
                _ = try await self.manager.depart(request: ClientRequest(message: session))
            }
        }
        grpc.beginGracefulShutdown()
        let running = tasks.withLock { tasks -> [Task<Void, Never>] in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
        await link.close()
    }

    private func addTask(_ body: @escaping @Sendable () async -> Void) {
        let task = Task { await body() }
        tasks.withLock { $0.append(task) }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? RPCError { return error.message }
        return "\(error)"
    }
}
