import DNS
import Foundation
import SandboxAPIServer

/// The live parts of the cluster network on top of a ``ClusterTopology``: the service rules
/// (``ServiceProxy``), the cluster DNS at 10.96.0.10:53 and the workstation's outside-world
/// resolver at 192.0.2.1:53 (``DNSListener``), and the node dialer set into the API. Start it
/// after the API server; stop it before the server and the topology.
public final class ClusterNetwork: Sendable {
    public let topology: ClusterTopology
    let proxy: ServiceProxy
    let clusterDNS: DNSListener
    let outsideDNS: DNSListener

    private init(topology: ClusterTopology, proxy: ServiceProxy, clusterDNS: DNSListener, outsideDNS: DNSListener) {
        self.topology = topology
        self.proxy = proxy
        self.clusterDNS = clusterDNS
        self.outsideDNS = outsideDNS
    }

    /// Loads the service rules and starts both DNS servers; returns once they answer.
    public static func start(server: APIServer, topology: ClusterTopology) async throws -> ClusterNetwork {
        let namespace = topology.names.nodeNamespace
        let proxy = ServiceProxy(store: server.store, namespace: namespace)
        try await proxy.start()
        let zone = ClusterDNS(store: server.store)
        let clusterDNS: DNSListener
        do {
            clusterDNS = try DNSListener(namespace: namespace, host: ClusterAddresses.clusterDNS) { zone.respond(to: $0) }
        } catch {
            await proxy.stop()
            throw error
        }
        let outside = OutsideWorldDNS()
        let outsideDNS: DNSListener
        do {
            outsideDNS = try DNSListener(namespace: namespace, host: ClusterAddresses.apiServer) { outside.respond(to: $0) }
        } catch {
            clusterDNS.stop()
            await proxy.stop()
            throw error
        }
        server.api.node.dialer = NodeDialer(namespace: namespace)
        server.api.node.serviceRouting = proxy
        return ClusterNetwork(topology: topology, proxy: proxy, clusterDNS: clusterDNS, outsideDNS: outsideDNS)
    }

    /// Stops the DNS servers and the rule updates (the topology stays; destroy it after).
    public func stop() async {
        clusterDNS.stop()
        outsideDNS.stop()
        await proxy.stop()
    }

    /// The resolv.conf the kubelet gives a pod in `namespace`: the cluster DNS, the search path
    /// `NS.svc.cluster.local svc.cluster.local cluster.local`, ndots 5.
    public static func podResolvConf(namespace: String) -> String { ClusterDNS.podResolvConf(namespace: namespace) }
}
