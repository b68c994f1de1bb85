import SandboxAPIServer

/// Dials from the node namespace, where pod and service addresses exist: what the API server
/// uses to reach webhooks and probes when the cluster has a network (`api.node.dialer`).
public struct NodeDialer: ClusterDialer {
    public let namespace: String

    public init(namespace: String) { self.namespace = namespace }

    public func connect(host: String, port: Int) async throws -> Int32 {
        // The socket is made (and connected) on a thread inside the namespace; it stays there.
        try await ClusterNamespace.run(in: namespace) { try blockingConnect(host: host, port: port) }
    }
}
