import Foundation
import KubeClient
import Logging
import NetworkAddress
import RPC
import VIF

/// The user daemon's part in the workstation's network: it opens the manager's tunnel port
/// through its own port-forward (a Unix socket the root daemon connects to) and hands the root
/// daemon the cluster's facts. The root daemon never sees a credential.
struct NetworkJoin: Sendable {
    let root: RootDaemonClient
    let logger: Logger

    /// What the root daemon is asked for, from the manager's cluster info and `connect`'s flags.
    static func outbound(
        clusterInfo: Telepresence_Manager_ClusterInfo, request: Telepresence_Connector_ConnectRequest,
        session: String, namespace: String, server: ServerAddress, tunnelSocket: String, tunnelConnections: Int = 1
    ) -> Telepresence_Daemon_OutboundInfo {
        var outbound = updated(Telepresence_Daemon_OutboundInfo(), with: clusterInfo)
        outbound.sessionID = session
        outbound.alsoProxy = request.alsoProxy
        outbound.neverProxy = request.neverProxy
        outbound.allowConflicting = request.allowConflictingSubnets
        // The API server's own address stays off the tunnel: the tunnel rides on it.
        if IPAddress(server.host) != nil {
            outbound.keepLocal = [server.host]
        }
        outbound.connectedNamespace = namespace
        outbound.mappedNamespaces = request.mappedNamespaces
        outbound.tunnelSocket = tunnelSocket
        outbound.tunnelConnections = Int32(tunnelConnections)
        return outbound
    }

    /// `outbound` with the parts that come from the cluster's info replaced (subnets, DNS).
    static func updated(
        _ outbound: Telepresence_Daemon_OutboundInfo, with clusterInfo: Telepresence_Manager_ClusterInfo
    ) -> Telepresence_Daemon_OutboundInfo {
        var outbound = outbound
        var subnets: [String] = []
        if clusterInfo.hasServiceSubnet, let subnet = clusterInfo.serviceSubnet.subnet { subnets.append(subnet.description) }
        subnets += clusterInfo.podSubnets.compactMap { $0.subnet?.description }
        outbound.clusterSubnets = subnets
        outbound.clusterDnsIp = IPAddress(bytes: clusterInfo.kubeDnsIp)?.description ?? ""
        outbound.clusterDomain = clusterInfo.clusterDomain
        return outbound
    }

    /// The network's state when the root daemon does not run.
    static var notRunning: Telepresence_Daemon_NetworkStatus {
        var status = Telepresence_Daemon_NetworkStatus()
        status.state = "disconnected"
        status.errorText = "the root daemon is not running, so cluster IPs and names are not reachable from this machine; 'telepresence connect' starts it"
        return status
    }

    func connect(_ outbound: Telepresence_Daemon_OutboundInfo) async throws -> Telepresence_Daemon_NetworkStatus {
        try await root.withDaemon { try await $0.connect(outbound) }
    }

    func disconnect() async {
        guard root.isRunning() else { return }
        _ = try? await root.withDaemon { try await $0.disconnect(.init()) }
    }

    func status() async -> Telepresence_Daemon_NetworkStatus {
        guard root.isRunning() else { return Self.notRunning }
        return (try? await root.withDaemon { try await $0.status(.init()) }) ?? Self.notRunning
    }
}
