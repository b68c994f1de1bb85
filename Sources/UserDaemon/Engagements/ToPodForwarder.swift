import ClientSupport
import Foundation
import KubeClient
import Logging
import NIOCore
import NIOPosix
import Tunnel

/// `--to-pod PORT`: a listener on 127.0.0.1:PORT whose every connection goes to the engaged
/// pod's PORT, through a port-forward to that pod (no cluster network needed), or TCP to
/// podIP:PORT when the port-forward fails.
final class ToPodForwarder: Sendable {
    let port: Int
    private let listener: any Channel

    private init(port: Int, listener: any Channel) {
        self.port = port
        self.listener = listener
    }

    /// Starts listening; `pod` says where each new connection goes (the intercept's first agent
    /// pod at that moment, which changes as pods roll).
    static func start(
        port: Int, client: KubeClient?, logger: Logger, pod: @escaping @Sendable () async -> Intercept.AgentPod?
    ) async throws -> ToPodForwarder {
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { accepted in
                // What the connection delivers before the pod is reached waits for it.
                try? accepted.pipeline.syncOperations.addHandler(HeldInput())
                Task { await forward(accepted, port: port, client: client, logger: logger, pod: pod) }
                return accepted.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: port).get()
        return ToPodForwarder(port: port, listener: listener)
    }

    func stop() async {
        try? await listener.close().get()
    }

    private static func forward(
        _ accepted: any Channel, port: Int, client: KubeClient?, logger: Logger,
        pod: @escaping @Sendable () async -> Intercept.AgentPod?
    ) async {
        guard let target = await pod() else {
            logger.warning("--to-pod \(port): the intercept has no pod now")
            try? await accepted.close().get()
            return
        }
        let relay: @Sendable (any Channel) throws -> Void = { channel in
            try channel.pipeline.syncOperations.addHandler(ByteStreamRelay.handler(partner: accepted))
        }
        do {
            let forwarded: any Channel
            if let client, let channel = try? await client.portForwardChannel(
                pod: target.podName, namespace: target.namespace, port: port, on: accepted.eventLoop, configure: relay) {
                forwarded = channel
            } else {
                forwarded = try await ClientBootstrap(group: accepted.eventLoop)
                    .connectTimeout(.seconds(5))
                    .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try relay(channel) } }
                    .connect(host: target.podIP, port: port).get()
            }
            try await ByteStreamRelay.start(accepted, partner: forwarded).get()
        } catch {
            logger.warning("--to-pod \(port): pod \(target.podName) could not be reached: \(error)")
            try? await accepted.close().get()
        }
    }
}
