import Diagnostics
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KubeClient
import Logging
import NIOCore
import NIOPosix
import RPC
import Tunnel

/// A running traffic-manager: the gRPC API on `settings.serverHost:serverPort` and the loops
/// behind it (session expiry, cluster info). `start` returns once the API listens; `stop` (or
/// cancelling `run`) ends it all.
public final class TrafficManager: Sendable {
    public let settings: ManagerSettings
    public let sessions: SessionKeeper
    /// Agents and intercepts.
    public let engagements: EngagementKeeper
    public let clusterInfo: ClusterInfoMonitor
    /// The port the API listens on (the one asked for, or the one the system chose for 0).
    public let port: Int
    /// The data plane's port: workstations' tunnels (through their port-forwards) end here.
    public let tunnelPort: Int
    /// The agent injector's webhook, when the install mounted its certificate.
    public let agentInjector: AgentInjectorServer?
    private let tunnelListener: any Channel
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let tasks: Task<Void, Never>

    private init(
        settings: ManagerSettings, sessions: SessionKeeper, engagements: EngagementKeeper, clusterInfo: ClusterInfoMonitor, port: Int,
        tunnelListener: any Channel, server: GRPCServer<HTTP2ServerTransport.Posix>, tasks: Task<Void, Never>,
        agentInjector: AgentInjectorServer? = nil
    ) {
        self.agentInjector = agentInjector
        self.tunnelListener = tunnelListener
        self.tunnelPort = tunnelListener.localAddress?.port ?? 0
        self.settings = settings
        self.sessions = sessions
        self.engagements = engagements
        self.clusterInfo = clusterInfo
        self.port = port
        self.server = server
        self.tasks = tasks
    }

    /// Starts the manager with `client` (in-cluster in a pod, a kubeconfig in tests).
    public static func start(
        settings: ManagerSettings, client: KubeClient, logLevel: LogLevelControl? = nil,
        logger: Logger = Logger(label: "traffic-manager")
    ) async throws -> TrafficManager {
        let levels = logLevel ?? LogLevelControl(configured: LogLevelControl.parse(settings.logLevel) ?? .info)
        let engagements = EngagementKeeper()
        let coordinator = InterceptCoordinator(keeper: engagements, client: client, settings: settings, logger: logger)
        let sessions = SessionKeeper(ttl: settings.clientSessionTTL, logger: logger, onEnd: { id in
            // A client's engagements end with its session; a replace puts its container back.
            let ended = engagements.sessionEnded(id)
            if !ended.isEmpty { Task { await coordinator.ended(ended) } }
        })
        let clusterInfo = ClusterInfoMonitor(client: client, settings: settings, logger: logger)
        let service = ManagerService(
            sessions: sessions, clusterInfo: clusterInfo, workloads: WorkloadWatcher(client: client, engagements: engagements, logger: logger),
            settings: settings, clusterID: { [identity = ClusterIdentity(client: client, namespaced: !settings.managedNamespaces.isEmpty)] in await identity.value() },
            logLevel: levels, logger: logger,
            engagements: engagements,
            intercepts: coordinator)
        // The tunnel port and the webhook listen before the API does: the pod is Ready once the
        // API port answers (its readiness probe), and a pod created right after must find the
        // webhook serving (failurePolicy Ignore would admit it without the agent).
        let tunnelListener: any Channel
        do {
            tunnelListener = try await TunnelServer.listen(
                host: settings.serverHost, port: settings.effectiveTunnelPort, group: MultiThreadedEventLoopGroup.singleton).get()
        } catch {
            throw ManagerStartError.notListening(host: settings.serverHost, port: settings.effectiveTunnelPort)
        }
        let agentInjector: AgentInjectorServer?
        do {
            agentInjector = try await AgentInjectorServer.startIfConfigured(settings: settings, client: client, logger: logger)
        } catch {
            try? await tunnelListener.close().get()
            throw ManagerStartError.notListening(host: settings.serverHost, port: settings.agentInjector.port)
        }
        let transport = HTTP2ServerTransport.Posix(
            address: .ipv4(host: settings.serverHost, port: settings.serverPort),
            transportSecurity: .plaintext)
        let server = GRPCServer(transport: transport, services: [service])
        let tasks = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do { try await server.serve() } catch where !Task.isCancelled { logger.error("the API server stopped: \(error)") } catch {}
                }
                group.addTask { await sessions.runExpiry(interval: settings.expiryInterval) }
                group.addTask { await clusterInfo.run() }
                await group.next()
                group.cancelAll()
            }
        }
        guard let address = try await server.listeningAddress?.ipv4 else {
            tasks.cancel()
            try? await tunnelListener.close().get()
            await agentInjector?.stop()
            throw ManagerStartError.notListening(host: settings.serverHost, port: settings.serverPort)
        }
        logger.info("tunnels end on \(settings.serverHost):\(tunnelListener.localAddress?.port ?? 0)")
        logger.info("traffic-manager \(ProductVersion.current) serving on \(address.host):\(address.port), namespace \(settings.namespace)")
        return TrafficManager(
            settings: settings, sessions: sessions, engagements: engagements, clusterInfo: clusterInfo, port: address.port,
            tunnelListener: tunnelListener, server: server, tasks: tasks, agentInjector: agentInjector)
    }

    /// Stops serving and ends the background loops.
    public func stop() async {
        await agentInjector?.stop()
        try? await tunnelListener.close().get()
        server.beginGracefulShutdown()
        tasks.cancel()
        await tasks.value
    }

    /// Runs until the task is cancelled or the server stops.
    public func wait() async {
        await withTaskCancellationHandler {
            await tasks.value
        } onCancel: {
            server.beginGracefulShutdown()
            tasks.cancel()
        }
    }
}

/// The manager could not start.
public enum ManagerStartError: Error, CustomStringConvertible {
    case notListening(host: String, port: Int)

    public var description: String {
        switch self {
        case .notListening(let host, let port):
            "the traffic-manager could not listen on \(host):\(port); another process may hold the port (set apiPort to another one)"
        }
    }
}

/// The cluster's id, as Telepresence has it: the uid of the `default` namespace, or the zero
/// UUID when that cannot be read. A namespaced install does not even ask (a namespace is
/// cluster-scoped, and its Roles cannot grant reading one). Fetched once, on first use.
actor ClusterIdentity {
    static let unknown = "00000000-0000-0000-0000-000000000000"
    private let client: KubeClient
    private let namespaced: Bool
    private var known: String?

    init(client: KubeClient, namespaced: Bool) {
        self.client = client
        self.namespaced = namespaced
    }

    func value() async -> String {
        if let known { return known }
        if namespaced {
            known = Self.unknown
            return Self.unknown
        }
        // A failed read is not remembered: the next client's arrival asks again.
        guard let namespace: Namespace = try? await client.get(.namespaces, name: "default"),
              let uid = namespace.metadata.uid else { return Self.unknown }
        known = uid
        return uid
    }
}
