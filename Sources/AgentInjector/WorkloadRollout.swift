// STAND-IN until eng-injector is merged (see README.md).
import AgentConfig
import Foundation
import KubeClient

/// Writes agent configs and rolls workloads so that their pods get (or lose) the agent.
public struct WorkloadRollout: Sendable {
    let client: KubeClient

    public init(client: KubeClient) { self.client = client }

    /// Rolls a workload: sets `telepresence.io/restartedAt` on its pod template; a ReplicaSet's
    /// pods are also deleted (a ReplicaSet does not replace pods when its template changes).
    public func roll(kind: String, name: String, namespace: String) async throws {
        let now = ISO8601DateFormatter().string(from: Date())
        let patch: JSONValue = ["spec": ["template": ["metadata": ["annotations": [AgentNames.restartedAtAnnotation: .string(now)]]]]]
        let resource = try Self.resource(kind)
        let _: JSONValue = try await client.patch(resource, name: name, namespace: namespace, type: .merge, patch: patch)
        if kind == "ReplicaSet" { try await deletePods(ofReplicaSet: name, namespace: namespace) }
    }

    /// Removes the workload's config entry and the restartedAt annotation, so its pods roll back
    /// to the template they had. False when it had no agent config.
    public func removeAgent(kind: String, name: String, namespace: String) async throws -> Bool {
        var removed = false
        if var map = try await configMap(namespace: namespace), map.data?[name] != nil {
            map.data?.removeValue(forKey: name)
            _ = try await client.update(.configMaps, map, namespace: namespace)
            removed = true
        }
        let resource = try Self.resource(kind)
        let workload: JSONValue = try await client.get(resource, name: name, namespace: namespace)
        if workload["spec"]?["template"]?["metadata"]?["annotations"]?[AgentNames.restartedAtAnnotation] != nil {
            let patch: JSONValue = ["spec": ["template": ["metadata": ["annotations": [AgentNames.restartedAtAnnotation: .null]]]]]
            let _: JSONValue = try await client.patch(resource, name: name, namespace: namespace, type: .merge, patch: patch)
            if kind == "ReplicaSet" { try await deletePods(ofReplicaSet: name, namespace: namespace) }
            removed = true
        }
        return removed
    }

    /// Writes the config under its workload's name in ConfigMap `telepresence-agents`.
    public func storeConfig(_ config: AgentConfig) async throws {
        let text = try config.encoded()
        if var map = try await configMap(namespace: config.namespace) {
            guard map.data?[config.workloadName] != text else { return }
            map.data = (map.data ?? [:]).merging([config.workloadName: text]) { $1 }
            _ = try await client.update(.configMaps, map, namespace: config.namespace)
        } else {
            _ = try await client.create(.configMaps, ConfigMap(
                metadata: ObjectMeta(name: AgentNames.configMap, namespace: config.namespace), data: [config.workloadName: text]))
        }
    }

    private func configMap(namespace: String) async throws -> ConfigMap? {
        do {
            return try await client.get(.configMaps, name: AgentNames.configMap, namespace: namespace)
        } catch let error as KubeError where error.isNotFound {
            return nil
        }
    }

    private func deletePods(ofReplicaSet name: String, namespace: String) async throws {
        let pods: KubeList<Pod> = try await client.list(.pods, namespace: namespace)
        for pod in pods.items where (pod.metadata.ownerReferences ?? []).contains(where: { $0.kind == "ReplicaSet" && $0.name == name }) {
            try? await client.delete(.pods, name: pod.metadata.name ?? "", namespace: namespace)
        }
    }

    static func resource(_ kind: String) throws -> ResourceDescriptor {
        switch kind {
        case "Deployment": .deployments
        case "ReplicaSet": .replicaSets
        case "StatefulSet": .statefulSets
        default: throw InjectorError("\(kind) is not a workload kind an agent can be injected into")
        }
    }
}
