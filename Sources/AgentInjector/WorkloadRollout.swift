import AgentConfig
import Foundation
import KubeClient

/// The writes that put an agent into a workload's pods and take it out again, through the API:
/// the workload's entry in ConfigMap `telepresence-agents` and the pod template annotation
/// `telepresence.io/restartedAt` that rolls the pods (ReplicaSet: its pods are deleted).
public struct WorkloadRollout: Sendable {
    let client: KubeClient

    public init(client: KubeClient) {
        self.client = client
    }

    /// Re-creates the workload's pods through the webhook, so they get its stored config: sets the
    /// pod template annotation telepresence.io/restartedAt to that config's stamp (Deployment,
    /// StatefulSet), or deletes the pods of a ReplicaSet.
    ///
    /// The stamp is a digest of the stored config's text, not the time: a template is then a
    /// function of the config it was rolled for, so putting back a config (the one before a
    /// `replace`, on `leave`) puts back exactly the template there was with it, and the controller
    /// rolls back to that revision; and two rolls within one second cannot leave the template
    /// unchanged. Without a stored config the stamp is the time (a plain restart).
    public func roll(kind: String, name: String, namespace: String) async throws {
        switch kind {
        case "Deployment", "StatefulSet":
            let stamp = try await storedConfigText(name: name, namespace: namespace).map(Self.stamp)
                ?? ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            let patch: JSONValue = ["spec": ["template": ["metadata": ["annotations": [AgentNames.restartedAtAnnotation: .string(stamp)]]]]]
            _ = try await client.patch(
                try Self.resource(kind), name: name, namespace: namespace, type: .merge, patch: patch, as: JSONValue.self)
        case "ReplicaSet":
            try await deletePods(kind: kind, name: name, namespace: namespace) { _ in true }
        default:
            throw InjectorError("Cannot roll \(kind) \(name): only Deployments, ReplicaSets and StatefulSets get a traffic-agent.")
        }
    }

    /// Removes the workload's agent: its entry in ConfigMap telepresence-agents (the ConfigMap when it
    /// becomes empty) and the restartedAt annotation (the pods roll back to exactly the template they had
    /// before; ReplicaSet: its pods are deleted). Returns whether there was anything to remove.
    public func removeAgent(kind: String, name: String, namespace: String) async throws -> Bool {
        let removedEntry = try await removeConfig(name: name, namespace: namespace)
        var rolled = false
        switch kind {
        case "Deployment", "StatefulSet":
            let resource = try Self.resource(kind)
            let workload: JSONValue
            do {
                workload = try await client.get(resource, name: name, namespace: namespace, as: JSONValue.self)
            } catch let error as KubeError where error.isNotFound {
                return removedEntry
            }
            let annotation: JSONPointer = JSONPointer(tokens: ["spec", "template", "metadata", "annotations", AgentNames.restartedAtAnnotation])
            if annotation.value(in: workload) != nil {
                // Test the value first, so a concurrent roll is not undone half-way.
                let patch = JSONPatch([.test(path: annotation, value: annotation.value(in: workload)!), .remove(path: annotation)])
                _ = try await client.patch(resource, name: name, namespace: namespace, type: .json, patch: patch, as: JSONValue.self)
                rolled = true
            } else {
                // Pods injected without a roll of ours (created while the config existed): their
                // controller re-creates them without the agent, the template untouched.
                rolled = try await deleteInjectedPods(kind: kind, name: name, namespace: namespace)
            }
        case "ReplicaSet":
            rolled = try await deleteInjectedPods(kind: kind, name: name, namespace: namespace)
        default:
            break
        }
        return removedEntry || rolled
    }

    /// Writes (creates or updates) the workload's entry in ConfigMap telepresence-agents.
    public func storeConfig(_ config: AgentConfig) async throws {
        let text = try config.encoded()
        for _ in 0..<8 {
            do {
                var map = try await client.get(.configMaps, name: AgentNames.configMap, namespace: config.namespace, as: ConfigMap.self)
                if map.data?[config.workloadName] == text { return }
                map.data = (map.data ?? [:]).merging([config.workloadName: text]) { $1 }
                _ = try await client.update(.configMaps, map, namespace: config.namespace)
                return
            } catch let error as KubeError where error.isNotFound {
                let map = ConfigMap(
                    metadata: ObjectMeta(
                        name: AgentNames.configMap, namespace: config.namespace,
                        labels: ["app.kubernetes.io/created-by": "traffic-manager", "app.kubernetes.io/name": AgentNames.configMap]),
                    data: [config.workloadName: text])
                do {
                    _ = try await client.create(.configMaps, map, namespace: config.namespace)
                    return
                } catch let error as KubeError where error.isAlreadyExists {
                    continue
                }
            } catch let error as KubeError where error.isConflict {
                continue
            }
        }
        throw InjectorError("The agent config of \(config.workloadKind.lowercased()) \(config.workloadName) could not be stored: ConfigMap \(AgentNames.configMap) in namespace \(config.namespace) kept changing; try again.")
    }

    /// The workload's stored agent config, if any.
    public func storedConfig(name: String, namespace: String) async throws -> AgentConfig? {
        try await storedConfigText(name: name, namespace: namespace).map { text throws in try AgentConfig.decode(text) }
    }

    /// The workload's entry in ConfigMap telepresence-agents, as stored.
    func storedConfigText(name: String, namespace: String) async throws -> String? {
        do {
            return try await client.get(.configMaps, name: AgentNames.configMap, namespace: namespace, as: ConfigMap.self).data?[name]
        } catch let error as KubeError where error.isNotFound {
            return nil
        }
    }

    /// The restartedAt value of a config's text: `config-` and its 64-bit FNV-1a digest in hex
    /// (it tells configs apart; it guards nothing).
    static func stamp(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "config-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Removes the workload's entry (and the ConfigMap once empty); whether there was one.
    func removeConfig(name: String, namespace: String) async throws -> Bool {
        for _ in 0..<8 {
            var map: ConfigMap
            do {
                map = try await client.get(.configMaps, name: AgentNames.configMap, namespace: namespace, as: ConfigMap.self)
            } catch let error as KubeError where error.isNotFound {
                return false
            }
            guard map.data?[name] != nil else { return false }
            map.data?[name] = nil
            do {
                if map.data?.isEmpty ?? true, (map.binaryData ?? [:]).isEmpty {
                    var options = DeleteOptions()
                    options.preconditions = DeleteOptions.Preconditions(resourceVersion: map.metadata.resourceVersion)
                    try await client.delete(.configMaps, name: AgentNames.configMap, namespace: namespace, options: options)
                } else {
                    _ = try await client.update(.configMaps, map, namespace: namespace)
                }
                return true
            } catch let error as KubeError where error.isConflict || error.isNotFound {
                continue
            }
        }
        throw InjectorError("The agent config of \(name) could not be removed: ConfigMap \(AgentNames.configMap) in namespace \(namespace) kept changing; try again.")
    }

    /// Deletes the workload's pods that have an agent until none is left: a pod its controller
    /// created (and the webhook injected) before the config was removed can appear after a list,
    /// so the list is repeated until a round finds none (at most 20 rounds, 100 ms apart).
    func deleteInjectedPods(kind: String, name: String, namespace: String) async throws -> Bool {
        var deletedAny = false
        for round in 0..<20 {
            let deleted = try await deletePods(kind: kind, name: name, namespace: namespace) { Self.hasAgent($0) }
            deletedAny = deletedAny || deleted
            if !deleted && round > 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return deletedAny
    }

    /// Deletes the workload's pods that `which` picks; whether it deleted any.
    @discardableResult
    func deletePods(kind: String, name: String, namespace: String, which: (Pod) -> Bool) async throws -> Bool {
        let resource = try Self.resource(kind)
        let selector: LabelSelector
        switch kind {
        case "Deployment": selector = try await client.get(resource, name: name, namespace: namespace, as: Deployment.self).spec?.selector ?? LabelSelector()
        case "StatefulSet": selector = try await client.get(resource, name: name, namespace: namespace, as: StatefulSet.self).spec?.selector ?? LabelSelector()
        default: selector = try await client.get(resource, name: name, namespace: namespace, as: ReplicaSet.self).spec?.selector ?? LabelSelector()
        }
        let pods = try await client.listAll(.pods, namespace: namespace, options: ListOptions(labelSelector: Self.selectorString(selector)), as: Pod.self).items
        var deleted = false
        for pod in pods where pod.metadata.deletionTimestamp == nil && selector.matches(pod.metadata.labels ?? [:]) && which(pod) {
            guard let podName = pod.metadata.name else { continue }
            do {
                try await client.delete(.pods, name: podName, namespace: namespace)
                deleted = true
            } catch let error as KubeError where error.isNotFound {}
        }
        return deleted
    }

    static func hasAgent(_ pod: Pod) -> Bool {
        pod.spec?.containers.contains { $0.name == AgentNames.container } ?? false
    }

    /// The `matchLabels` part as a label selector query (expressions are checked on the answer).
    static func selectorString(_ selector: LabelSelector) -> String? {
        let terms = (selector.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return terms.isEmpty ? nil : terms.joined(separator: ",")
    }

    static func resource(_ kind: String) throws -> ResourceDescriptor {
        switch kind {
        case "Deployment": .deployments
        case "ReplicaSet": .replicaSets
        case "StatefulSet": .statefulSets
        default: throw InjectorError("\(kind) is not a workload that can get a traffic-agent; use a Deployment, ReplicaSet or StatefulSet.")
        }
    }
}
