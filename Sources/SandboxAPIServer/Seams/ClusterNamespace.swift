import LinuxNet

/// The cluster's network namespaces entered through `LinuxNet.NetworkNamespace`, with failures
/// in the cluster network's words (a missing namespace: start the cluster; a taken address: a
/// leftover cluster). Shared by the API server's cluster listener, the network and the node.
public enum ClusterNamespace {
    public static var directory: String { NetworkNamespace.directory }

    public static func exists(_ name: String) -> Bool { NetworkNamespace.exists(name) }

    /// Runs `body` on a fresh thread inside namespace `name` and waits for it (blocking).
    public static func runBlocking<T: Sendable>(in name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        try NetworkNamespace.runBlocking(in: name, entryError: { $0.clusterNetworkError(name) }) {
            do { return try body() } catch let error as SocketError { throw ClusterNetworkError(error) }
        }
    }

    /// Runs `body` on a fresh thread inside namespace `name`; the awaiting task blocks no thread.
    public static func run<T: Sendable>(in name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NetworkNamespace.run(in: name, entryError: { $0.clusterNetworkError(name) }) {
            do { return try body() } catch let error as SocketError { throw ClusterNetworkError(error) }
        }
    }

    /// A listening (TCP) or bound (UDP) socket on `host:port` inside namespace `name`.
    public static func boundSocket(in name: String, host: String, port: Int, udp: Bool = false) throws -> Int32 {
        try runBlocking(in: name) { try NetworkNamespace.makeBoundSocket(host: host, port: port, udp: udp) }
    }

    /// A bound socket in the calling thread's namespace.
    public static func makeBoundSocket(host: String, port: Int, udp: Bool) throws(ClusterNetworkError) -> Int32 {
        do { return try NetworkNamespace.makeBoundSocket(host: host, port: port, udp: udp) } catch { throw ClusterNetworkError(error) }
    }
}

extension NamespaceEntryFailure {
    /// As the cluster network reports it for the namespace called `name`.
    public func clusterNetworkError(_ name: String) -> ClusterNetworkError {
        opening ? .namespaceMissing(name) : .system("enter the network namespace \(name)", errno: errno)
    }
}

extension ClusterNetworkError {
    public init(_ error: SocketError) {
        switch error {
        case .bindFailed(let host, let port, let code): self = .bindFailed(host: host, port: port, errno: code)
        case .system(let operation, let code): self = .system(operation, errno: code)
        }
    }
}
