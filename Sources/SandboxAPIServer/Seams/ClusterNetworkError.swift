import Foundation

/// Why the sandbox's network (namespaces, links, service rules, DNS) could not be made or used.
public enum ClusterNetworkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN.
    case notRoot
    case namespaceMissing(String)
    case commandFailed(command: String, status: Int32, output: String)
    case bindFailed(host: String, port: Int, errno: Int32)
    case system(String, errno: Int32)

    public var description: String {
        switch self {
        case .notRoot:
            "the cluster network needs root (network namespaces, nftables); run as root, or use '--node virtual' for an API server without a network"
        case .namespaceMissing(let name):
            "the network namespace \(name) does not exist; start the cluster with 'sandbox-cluster up'"
        case .commandFailed(let command, let status, let output):
            "'\(command)' failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines)); check that iproute2 and nftables are installed and that this kernel has network namespaces"
        case .bindFailed(let host, let port, let code):
            "cannot listen on \(host):\(port): \(String(cString: strerror(code))); stop whatever uses that address (a leftover cluster: 'sandbox-cluster down')"
        case .system(let operation, let code):
            "cannot \(operation): \(String(cString: strerror(code)))"
        }
    }
}
