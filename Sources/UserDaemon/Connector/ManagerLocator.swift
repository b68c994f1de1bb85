import Foundation
import KubeClient
import ManagerInstall

/// Finds the traffic-manager in its namespace through the API (one list of pods), and tells
/// "not installed" from "not ready" from "the API server does not answer".
public struct ManagerLocator: Sendable {
    public let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    /// A Ready manager pod.
    public func readyPod(namespace: String, port: Int = 8081) async throws(ConnectError) -> ManagerPod {
        let pods: KubeList<Pod>
        do {
            pods = try await client.list(.pods, namespace: namespace, options: ListOptions(labelSelector: ManagerManifests.selectorString))
        } catch let error as KubeError {
            throw ConnectError.from(error, server: client.configuration.server)
        } catch {
            throw ConnectError.clusterUnreachable(server: client.configuration.server.description, reason: "\(error)")
        }
        let live = pods.items.filter { $0.metadata.deletionTimestamp == nil }
        guard !live.isEmpty else { throw ConnectError.managerNotInstalled(namespace: namespace) }
        let ready = live.filter { pod in
            pod.status?.phase == "Running"
                && (pod.status?.conditions ?? []).contains { $0.type == "Ready" && $0.status == "True" }
        }
        guard let pod = ready.first, let name = pod.metadata.name else {
            throw ConnectError.managerNotReady(namespace: namespace, pods: live.compactMap(\.metadata.name))
        }
        let apiPort = pod.spec?.containers.first { $0.name == "traffic-manager" }?
            .ports?.first { $0.name == "api" }?.containerPort ?? port
        return ManagerPod(name: name, namespace: namespace, ip: pod.status?.podIP, port: apiPort)
    }
}
