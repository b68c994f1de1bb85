import Foundation
import KubeClient
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Tunnel

/// Reaches the traffic-manager through the API server's pod port-forward, in process: gRPC
/// connects to a user-only Unix socket, and each connection accepted there is relayed over a
/// new port-forward stream to the manager pod's API port. When a port-forward breaks, gRPC
/// reconnects to the socket and the relay opens a new one, to whichever manager pod is Ready
/// then (a replaced pod is found again), so the session survives without a new `connect`.
public struct PortForwardManagerDialer: ManagerDialer {
    public let client: KubeClient
    public let socketDirectory: URL
    public let logger: Logger

    public init(client: KubeClient, socketDirectory: URL, logger: Logger) {
        self.client = client
        self.socketDirectory = socketDirectory
        self.logger = logger
    }

    public func open(pod: ManagerPod, onLinkLost: @escaping @Sendable () -> Void) async throws -> ManagerLink {
        let path = socketDirectory.appendingPathComponent("manager-\(getpid()).socket").path
        let relay = try await PortForwardRelay.start(
            socketPath: path, client: client, initialPod: pod, logger: logger, onLinkLost: onLinkLost)
        return ManagerLink(
            address: .unix(path: path), description: "port-forward to pod \(relay.currentPod.withLock { $0 } ?? pod.name).\(pod.namespace):\(pod.port)",
            close: { await relay.stop() }, lastFailure: { relay.lastFailure.withLock { text -> String? in text } })
    }

    public func openTunnel(pod: ManagerPod) async throws -> ManagerLink {
        let path = socketDirectory.appendingPathComponent("tunnel-\(getpid()).socket").path
        let relay = try await PortForwardRelay.start(
            socketPath: path, client: client, initialPod: pod, logger: logger, portOffset: 1, onLinkLost: {})
        return ManagerLink(
            address: .unix(path: path), description: "port-forward to pod \(pod.name).\(pod.namespace):\(pod.port + 1)",
            close: { await relay.stop() }, lastFailure: { relay.lastFailure.withLock { text -> String? in text } })
    }
}

/// The Unix-socket listener and the per-connection port-forwards behind `PortForwardManagerDialer`.
final class PortForwardRelay: Sendable {
    private let listener: any Channel
    private let socketPath: String
    /// Why the last port-forward failed, if it did.
    let lastFailure: Mutex<String?>
    /// The pod the last port-forward went to.
    let currentPod = Mutex<String?>(nil)

    private init(listener: any Channel, socketPath: String) {
        self.listener = listener
        self.socketPath = socketPath
        self.lastFailure = Mutex(nil)
    }

    /// `portOffset` picks the pod's port relative to its API port (1: the tunnel port).
    static func start(
        socketPath: String, client: KubeClient, initialPod: ManagerPod, logger: Logger, portOffset: Int = 0,
        onLinkLost: @escaping @Sendable () -> Void
    ) async throws -> PortForwardRelay {
        let target = PodTarget(client: client, current: initialPod, logger: logger)
        let failure = FailureNote()
        let previousMask = umask(0o077)  // the socket is the user's only, from the start
        defer { umask(previousMask) }
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 8)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { accepted in
                // What the connection delivers before its port-forward is up waits for it.
                try? accepted.pipeline.syncOperations.addHandler(HeldInput())
                Task {
                    await relay(accepted, target: target, client: client, logger: logger, failure: failure,
                                portOffset: portOffset, onLinkLost: onLinkLost)
                }
                return accepted.eventLoop.makeSucceededVoidFuture()
            }
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true)
            .get()
        let started = PortForwardRelay(listener: listener, socketPath: socketPath)
        failure.attach(started)
        return started
    }

    func stop() async {
        try? await listener.close().get()
        unlink(socketPath)
    }

    /// Joins one accepted connection to a new port-forward stream.
    private static func relay(
        _ accepted: any Channel, target: PodTarget, client: KubeClient, logger: Logger, failure: FailureNote,
        portOffset: Int, onLinkLost: @escaping @Sendable () -> Void
    ) async {
        do {
            let pod = try await target.pod()
            failure.notePod(pod.name)
            // On the accepted connection's loop: the relay then copies within one thread.
            let forwarded = try await client.portForwardChannel(
                pod: pod.name, namespace: pod.namespace, port: pod.port + portOffset, on: accepted.eventLoop
            ) { channel in
                try channel.pipeline.syncOperations.addHandler(ByteStreamRelay.handler(partner: accepted))
            }
            forwarded.closeFuture.whenComplete { _ in
                onLinkLost()
                Task { await target.forget(pod) }
            }
            try await ByteStreamRelay.start(accepted, partner: forwarded).get()
        } catch {
            logger.warning("the port-forward to the traffic-manager failed: \(error)")
            failure.note("the port-forward to its pod failed: \(error)")
            await target.forgetAny()
            onLinkLost()
            try? await accepted.close().get()
        }
    }
}

/// Where the accept handler (made before the relay exists) records failures for the relay.
final class FailureNote: Sendable {
    private let relay = Mutex<PortForwardRelay?>(nil)
    func attach(_ relay: PortForwardRelay) { self.relay.withLock { $0 = relay } }
    func note(_ text: String) { relay.withLock { $0 }?.lastFailure.withLock { $0 = text } }
    func notePod(_ name: String) { relay.withLock { $0 }?.currentPod.withLock { $0 = name } }
}

/// The manager pod the relay forwards to: the one found at connect, then whichever manager pod
/// is Ready when that one fails.
actor PodTarget {
    let client: KubeClient
    var current: ManagerPod?
    let namespace: String
    let port: Int
    let logger: Logger

    init(client: KubeClient, current: ManagerPod, logger: Logger) {
        self.client = client
        self.current = current
        self.namespace = current.namespace
        self.port = current.port
        self.logger = logger
    }

    func pod() async throws -> ManagerPod {
        if let current { return current }
        let found = try await ManagerLocator(client: client).readyPod(namespace: namespace, port: port)
        logger.info("forwarding to traffic-manager pod \(found.name)")
        current = found
        return found
    }

    func forget(_ pod: ManagerPod) {
        if current == pod { current = nil }
    }

    func forgetAny() { current = nil }
}
