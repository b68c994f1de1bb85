import Foundation
import KubeClient
import NIOCore
import NIOPosix
import Tunnel

/// How the connector reaches the traffic-manager's API: a small protocol so the daemon can go
/// through the API server's port-forward (the product) while a test points it at a manager on
/// 127.0.0.1 (internal API only; no CLI flag selects it).
public protocol ManagerDialer: Sendable {
    /// Makes the manager reachable and says where gRPC connects. `onLinkLost` is called whenever
    /// the connection under gRPC breaks (a port-forward cut), so the session can say so at once.
    func open(pod: ManagerPod, onLinkLost: @escaping @Sendable () -> Void) async throws -> ManagerLink

    /// Makes the manager's tunnel port reachable through a Unix socket (its `address` is
    /// `.unix`): the root daemon connects there, never to the cluster itself.
    func openTunnel(pod: ManagerPod) async throws -> ManagerLink
}

extension ManagerDialer {
    public func openTunnel(pod: ManagerPod) async throws -> ManagerLink {
        throw TunnelUnavailable()
    }
}

/// The dialer reaches the manager's API only (a test's direct dialer without a tunnel port):
/// the session works, the workstation's network is not joined, and status says so.
public struct TunnelUnavailable: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the connection to the traffic-manager carries no tunnel, so the workstation's network was not joined" }
}

/// Where gRPC connects to reach the manager, and how to stop reaching it.
public struct ManagerLink: Sendable {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    /// What the link goes through now, for status and logs ("port-forward to pod x",
    /// "127.0.0.1:8081"); read each time, since a relay moves to a replacement pod.
    public var description: String { describe() }
    private let describe: @Sendable () -> String
    public var close: @Sendable () async -> Void
    /// The last reason the link failed (a refused port-forward), for error messages.
    public var lastFailure: @Sendable () -> String?

    public init(
        address: Address, description: @autoclosure @escaping @Sendable () -> String, close: @escaping @Sendable () async -> Void = {},
        lastFailure: @escaping @Sendable () -> String? = { nil }
    ) {
        self.address = address
        self.describe = description
        self.close = close
        self.lastFailure = lastFailure
    }
}

/// The traffic-manager pod the connector found.
public struct ManagerPod: Sendable, Equatable {
    public var name: String
    public var namespace: String
    public var ip: String?
    public var port: Int

    public init(name: String, namespace: String, ip: String?, port: Int) {
        self.name = name
        self.namespace = namespace
        self.ip = ip
        self.port = port
    }
}

/// Dials a manager at a fixed address (tests run one in process on 127.0.0.1).
public struct DirectManagerDialer: ManagerDialer {
    public let host: String
    public let port: Int
    /// The manager's tunnel port, and where to put the Unix socket relaying to it.
    public let tunnelPort: Int?
    public let socketDirectory: URL?

    public init(host: String = "127.0.0.1", port: Int, tunnelPort: Int? = nil, socketDirectory: URL? = nil) {
        self.host = host
        self.port = port
        self.tunnelPort = tunnelPort
        self.socketDirectory = socketDirectory
    }

    public func open(pod: ManagerPod, onLinkLost: @escaping @Sendable () -> Void) async throws -> ManagerLink {
        ManagerLink(address: .tcp(host: host, port: port), description: "\(host):\(port)")
    }

    public func openTunnel(pod: ManagerPod) async throws -> ManagerLink {
        guard let tunnelPort, let socketDirectory else { throw TunnelUnavailable() }
        let path = socketDirectory.appendingPathComponent("tunnel-\(getpid()).socket").path
        let target = try SocketAddress(ipAddress: host, port: tunnelPort)
        let previousMask = umask(0o077)
        defer { umask(previousMask) }
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { accepted in
                // The manager speaks first (its HELLO): the relay must be in place before the
                // upstream's first read, so it is added by the initializer.
                ClientBootstrap(group: accepted.eventLoop)
                    .channelInitializer { upstream in
                        upstream.eventLoop.makeCompletedFuture {
                            try upstream.pipeline.syncOperations.addHandler(ByteStreamRelay.handler(partner: accepted))
                        }
                    }
                    .connect(to: target).flatMap { upstream in
                        accepted.eventLoop.makeCompletedFuture {
                            try accepted.pipeline.syncOperations.addHandler(ByteStreamRelay.handler(partner: upstream))
                        }.flatMap { accepted.setOption(.autoRead, value: true) }
                    }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        return ManagerLink(address: .unix(path: path), description: "\(host):\(tunnelPort)", close: {
            try? await listener.close().get()
            unlink(path)
        })
    }
}
