import KubeClient

/// A workload as engagements need it: its kind, its pod template, and how to tell its current
/// pods (those of its newest revision) from pods that are going away.
public struct EngagedWorkload: Sendable {
    public var kind: String
    public var name: String
    public var namespace: String
    public var uid: String
    public var template: PodTemplateSpec

    /// The labels of its pods, which a Service's selector must match.
    public var podLabels: [String: String] { template.metadata?.labels ?? [:] }

    /// Whether a Service selects this workload's pods.
    public func isSelected(by service: Service) -> Bool {
        guard let selector = service.spec?.selector, !selector.isEmpty else { return false }
        return selector.allSatisfy { podLabels[$0.key] == $0.value }
    }

    /// The Services that select it, sorted by name.
    public func services(among all: [Service]) -> [Service] {
        all.filter(isSelected).sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
    }

    /// Its current pods among `pods`: owned by it (a Deployment's through its newest
    /// ReplicaSet, a StatefulSet's of its update revision), not being deleted, not finished.
    public func currentPods(pods: [Pod], replicaSets: [ReplicaSet], updateRevision: String? = nil) -> [Pod] {
        let owners: Set<String>
        switch kind {
        case "Deployment":
            let mine = replicaSets.filter { ($0.metadata.ownerReferences ?? []).contains { $0.uid == uid } }
            let newest = mine.max { Self.revision($0) < Self.revision($1) }
            owners = Set(newest.flatMap(\.metadata.uid).map { [$0] } ?? [])
        default:
            owners = [uid]
        }
        return pods.filter { pod in
            guard pod.metadata.deletionTimestamp == nil, pod.status?.phase != "Succeeded", pod.status?.phase != "Failed",
                  (pod.metadata.ownerReferences ?? []).contains(where: { owners.contains($0.uid) })
            else { return false }
            if kind == "StatefulSet", let updateRevision, !updateRevision.isEmpty {
                return pod.metadata.labels?["controller-revision-hash"] == updateRevision
            }
            return true
        }.sorted { ($0.metadata.name ?? "") < ($1.metadata.name ?? "") }
    }

    /// Its pods among `pods` that still serve but are not current (an older ReplicaSet's or
    /// revision's, not yet being deleted): while there are any, a rollout is under way and a
    /// Service may still send them connections.
    public func outdatedPods(pods: [Pod], replicaSets: [ReplicaSet], current currentPods: [Pod]) -> [Pod] {
        let current = Set(currentPods.compactMap(\.metadata.uid))
        var owners: Set<String> = [uid]
        if kind == "Deployment" {
            for set in replicaSets where (set.metadata.ownerReferences ?? []).contains(where: { $0.uid == uid }) {
                if let id = set.metadata.uid { owners.insert(id) }
            }
        }
        return pods.filter { pod in
            pod.metadata.deletionTimestamp == nil && pod.status?.phase != "Succeeded" && pod.status?.phase != "Failed"
                && (pod.metadata.ownerReferences ?? []).contains(where: { owners.contains($0.uid) })
                && !current.contains(pod.metadata.uid ?? "")
        }
    }

    static func revision(_ replicaSet: ReplicaSet) -> Int {
        Int(replicaSet.metadata.annotations?["deployment.kubernetes.io/revision"] ?? "") ?? 0
    }
}
