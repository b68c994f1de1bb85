import KubeClient

/// Keeps a ReplicaSet's pod count at `spec.replicas` and its status current.
struct ReplicaSetController: Sendable {
    let api: KubernetesAPI

    func reconcile(namespace: String, name: String) async {
        let type = ResourceCatalog.replicaSets
        guard let rs = api.store.get(type, namespace: namespace, name: name), !Workload.isTerminating(rs) else { return }
        let desired = rs.value["spec"]?["replicas"]?.intValue ?? 1
        var pods = Workload.pods(of: rs, store: api.store)
        if pods.count < desired {
            let owner = Workload.ownerReference(rs, kind: "ReplicaSet")
            for _ in pods.count..<desired {
                let pod = Workload.pod(
                    from: rs.value["spec"]?["template"], namespace: namespace, owner: owner, extraLabels: [:],
                    generateName: "\(name)-")
                if let created = try? await api.createPod(pod, username: "system:serviceaccount:kube-system:replicaset-controller", groups: Workload.controllerGroups) {
                    pods.append(created)
                }
            }
        } else if pods.count > desired {
            // Not-ready pods go first, then the newest.
            let victims = pods.sorted { a, b in
                let ra = Workload.isReady(a), rb = Workload.isReady(b)
                if ra != rb { return !ra }
                return a.resourceVersion > b.resourceVersion
            }.prefix(pods.count - desired)
            for victim in victims {
                _ = try? api.deleteObject(ResourceCatalog.pods, namespace: namespace, name: victim.name, propagation: "Background")
            }
            let gone = Set(victims.map(\.name))
            pods.removeAll { gone.contains($0.name) }
        }
        let ready = pods.filter(Workload.isReady).count
        let status: JSONValue = [
            "replicas": .number(Double(pods.count)), "fullyLabeledReplicas": .number(Double(pods.count)),
            "readyReplicas": .number(Double(ready)), "availableReplicas": .number(Double(ready)),
            "observedGeneration": rs.value["metadata"]?["generation"] ?? 1,
        ]
        if let latest = api.store.get(type, namespace: namespace, name: name) {
            Workload.writeStatus(api, type, latest, status)
        }
    }
}
