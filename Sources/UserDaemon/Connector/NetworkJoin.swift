import ClientSupport
import Foundation
import KubeClient
import Logging
import NetworkAddress

/// The user daemon's part in the workstation's network: it opens the manager's tunnel port
/// through its own port-forward (a Unix socket the root daemon connects to) and hands the root
/// daemon the cluster's facts. The root daemon never sees a credential.
struct NetworkJoin: Sendable {
    let root: RootDaemonClient
    let logger: Logger

    /// What the root daemon is asked for, from the manager's cluster info and `connect`'s flags.
    static func request(
        clusterInfo: ClusterInfo, connect: ConnectRequest, mappedNamespaces: [String], session: String, namespace: String,
        server: ServerAddress,
        tunnelSocket: String, tunnelConnections: Int = 1
    ) -> NetworkRequest {
        NetworkRequest(
            sessionID: session, alsoProxy: connect.alsoProxy, neverProxy: connect.neverProxy,
            allowConflicting: connect.allowConflictingSubnets,
            // The API server's own address stays off the tunnel: the tunnel rides on it.
            keepLocal: IPAddress(server.host).map { [$0] } ?? [],
            connectedNamespace: namespace, mappedNamespaces: mappedNamespaces,
            tunnelSocket: tunnelSocket, tunnelConnections: tunnelConnections
        ).updated(with: clusterInfo)
    }

    /// The network's state when the root daemon does not run.
    static let notRunning = NetworkStatus.disconnected(
        "the root daemon is not running, so cluster IPs and names are not reachable from this machine; 'telepresence connect' starts it")

    func connect(_ request: NetworkRequest) async throws -> NetworkStatus {
        try await root.withSession { try await $0.connect(request) }
    }

    func disconnect() async {
        guard root.isRunning() else { return }
        _ = try? await root.withSession { try await $0.disconnect() }
    }

    func status() async -> NetworkStatus {
        guard root.isRunning() else { return Self.notRunning }
        return (try? await root.withSession { try await $0.status() }) ?? Self.notRunning
    }
}
