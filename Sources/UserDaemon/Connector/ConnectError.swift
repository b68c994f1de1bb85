import ClientSupport
import KubeClient

/// Why `connect` did not connect; each prints as one sentence with the next step, and maps to
/// the `ConnectFailure` kind the CLI receives.
public enum ConnectError: Error, Sendable, Equatable, CustomStringConvertible {
    case clusterConfig(String)
    case clusterUnreachable(server: String, reason: String)
    case clusterRefused(server: String, reason: String)
    case managerNotInstalled(namespace: String)
    case managerNotReady(namespace: String, pods: [String], reason: String?)
    case managerUnreachable(namespace: String, reason: String)
    case alreadyConnectedElsewhere(context: String, namespace: String)
    /// The root daemon could not join the workstation's network (a conflicting route, say).
    case networkFailed(String)

    public var description: String {
        switch self {
        case .clusterConfig(let reason):
            reason
        case .clusterUnreachable(let server, let reason):
            "the Kubernetes API server at \(server) cannot be reached (\(reason)); check the network, VPN and the kubeconfig's server address, or pick another context with --context"
        case .clusterRefused(let server, let reason):
            "the Kubernetes API server at \(server) refused the request: \(reason)"
        case .managerNotInstalled(let namespace):
            "traffic manager not found in namespace \(namespace); if it is not installed, run 'telepresence helm install' (or pass --manager-namespace with the namespace it is in)"
        case .managerNotReady(let namespace, let pods, let reason):
            "the traffic-manager in namespace \(namespace) is not ready"
                + (reason.map { ": \($0)" } ?? (pods.isEmpty ? "" : " (pods: \(pods.joined(separator: ", ")))"))
                + "; check it with 'kubectl -n \(namespace) describe pod -l app=traffic-manager'"
        case .managerUnreachable(let namespace, let reason):
            "the traffic-manager in namespace \(namespace) cannot be reached (\(reason)); check its pod's logs with 'kubectl -n \(namespace) logs deploy/traffic-manager'"
        case .alreadyConnectedElsewhere(let context, let namespace):
            "already connected to context \(context), namespace \(namespace); run 'telepresence quit' first to connect elsewhere"
        case .networkFailed(let reason):
            "the workstation's network could not join the cluster: \(reason)"
        }
    }

    /// What the Connector API reports.
    public var failure: ConnectFailure {
        let kind: ConnectFailure.Kind = switch self {
        case .clusterConfig: .clusterConfig
        case .clusterUnreachable, .clusterRefused: .clusterFailed
        case .managerNotInstalled: .managerNotInstalled
        case .managerNotReady, .managerUnreachable: .trafficManagerFailed
        case .alreadyConnectedElsewhere: .mustRestart
        case .networkFailed: .daemonFailed
        }
        return ConnectFailure(kind, description)
    }

    static func from(_ error: KubeError, server: ServerAddress) -> ConnectError {
        switch error {
        case .timedOut(_, let after?):
            // The daemon's own timeout (config.yml timeouts.clusterConnect), not kubectl's flag.
            return .clusterUnreachable(server: server.description, reason: "no answer within \(after.components.seconds) s")
        case .connectionRefused, .unreachable, .timedOut, .connectionClosed, .proxyFailed:
            return .clusterUnreachable(server: server.description, reason: "\(error)")
        default:
            return .clusterRefused(server: server.description, reason: "\(error)")
        }
    }
}
