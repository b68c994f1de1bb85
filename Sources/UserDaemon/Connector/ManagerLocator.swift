import ClientSupport
import Foundation
import KubeClient
import ManagerInstall

/// Finds the traffic-manager in its namespace through the API, and tells "not installed" from
/// "not ready" from "the API server does not answer". A manager that is still starting (just
/// installed, or its pod replaced) is waited for; one that never gets ready is explained from
/// its pods' state. It reads only what Telepresence's client role grants in the manager's
/// namespace: pods and the `traffic-manager` Service.
public struct ManagerLocator: Sendable {
    public let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    /// A Ready manager pod, waited for up to `patience` while the manager is installed but not
    /// ready yet. The API server must answer the first request within `firstAnswer` (a cluster
    /// that does not answer at all is told at once, not after the manager's patience).
    public func readyPod(
        namespace: String, port: Int = 8081, patience: Duration = .zero, firstAnswer: Duration = .seconds(20)
    ) async throws(ConnectError) -> ManagerPod {
        let deadline = ContinuousClock.now + patience
        var first = true
        while true {
            let live = first ? try await firstPods(namespace: namespace, within: firstAnswer) : try await pods(namespace: namespace)
            first = false
            if let pod = Self.ready(live, namespace: namespace, port: port) { return pod }
            if live.isEmpty, try await !serviceExists(namespace: namespace) {
                throw ConnectError.managerNotInstalled(namespace: namespace)
            }
            guard ContinuousClock.now < deadline else {
                let trouble = PodTrouble.describe(pods: live) ?? (live.isEmpty ? "no traffic-manager pod runs" : nil)
                throw ConnectError.managerNotReady(namespace: namespace, pods: live.compactMap(\.metadata.name), reason: trouble)
            }
            do { try await Task.sleep(for: .milliseconds(200)) } catch {
                throw ConnectError.managerNotReady(namespace: namespace, pods: live.compactMap(\.metadata.name), reason: nil)
            }
        }
    }

    private func firstPods(namespace: String, within limit: Duration) async throws(ConnectError) -> [Pod] {
        do {
            return try await withDeadline(limit) { try await self.pods(namespace: namespace, limit: limit) }
        } catch let error as ConnectError {
            throw error
        } catch {
            throw ConnectError.clusterUnreachable(
                server: client.configuration.server.description, reason: "no answer within \(limit.components.seconds) s")
        }
    }

    private func pods(namespace: String, limit: Duration? = nil) async throws(ConnectError) -> [Pod] {
        do {
            let pods: KubeList<Pod> = try await client.list(.pods, namespace: namespace, options: ListOptions(labelSelector: ManagerManifests.selectorString))
            return pods.items.filter { $0.metadata.deletionTimestamp == nil }
        } catch let error as KubeError {
            // The request's own timeout is the same limit and may fire first: say the same thing.
            if case .timedOut = error, let limit {
                throw ConnectError.clusterUnreachable(
                    server: client.configuration.server.description, reason: "no answer within \(limit.components.seconds) s")
            }
            throw ConnectError.from(error, server: client.configuration.server)
        } catch {
            throw ConnectError.clusterUnreachable(server: client.configuration.server.description, reason: "\(error)")
        }
    }

    private func serviceExists(namespace: String) async throws(ConnectError) -> Bool {
        do {
            let _: JSONValue = try await client.get(.services, name: ManagerManifests.name, namespace: namespace)
            return true
        } catch let error as KubeError where error.isNotFound {
            return false
        } catch let error as KubeError {
            throw ConnectError.from(error, server: client.configuration.server)
        } catch {
            throw ConnectError.clusterUnreachable(server: client.configuration.server.description, reason: "\(error)")
        }
    }

    static func ready(_ pods: [Pod], namespace: String, port: Int) -> ManagerPod? {
        let ready = pods.filter { pod in
            pod.status?.phase == "Running" && (pod.status?.conditions ?? []).contains { $0.type == "Ready" && $0.status == "True" }
        }
        guard let pod = ready.first, let name = pod.metadata.name else { return nil }
        let apiPort = pod.spec?.containers.first { $0.name == "traffic-manager" }?
            .ports?.first { $0.name == "api" }?.containerPort ?? port
        return ManagerPod(name: name, namespace: namespace, ip: pod.status?.podIP, port: apiPort)
    }
}
