import KubeClient

/// StatefulSet -> pods `<name>-0…N-1`, created in order (each once the one before is Ready),
/// removed from the highest ordinal, replaced one at a time on a template change (RollingUpdate
/// with partition), with the revision fields `kubectl rollout status` compares.
struct StatefulSetController: Sendable {
    let api: KubernetesAPI

    func reconcile(namespace: String, name: String) async {
        let type = ResourceCatalog.statefulSets
        guard let sts = api.store.get(type, namespace: namespace, name: name), !Workload.isTerminating(sts) else { return }
        let spec = sts.value["spec"]
        let desired = spec?["replicas"]?.intValue ?? 1
        let revision = "\(name)-\(Workload.templateHash(spec?["template"]))"
        let parallel = spec?["podManagementPolicy"]?.stringValue == "Parallel"
        let partition = spec?["updateStrategy"]?["rollingUpdate"]?["partition"]?.intValue ?? 0
        let rolling = spec?["updateStrategy"]?["type"]?.stringValue != "OnDelete"
        func ordinal(_ pod: StoredObject) -> Int { Int(pod.name.split(separator: "-").last ?? "") ?? -1 }
        func podRevision(_ pod: StoredObject) -> String { pod.value["metadata"]?["labels"]?["controller-revision-hash"]?.stringValue ?? "" }

        let allPods = api.store.list(ResourceCatalog.pods, namespace: namespace).items.map(\.object).filter { Workload.isOwned($0, by: sts) }
        var pods = allPods.filter { !Workload.isTerminating($0) }
        let owner = Workload.ownerReference(sts, kind: "StatefulSet")
        let existing = Set(pods.map(ordinal))
        for i in 0..<desired where !existing.contains(i) {
            // OrderedReady: start ordinal i only when all before it are Ready.
            if !parallel, !(0..<i).allSatisfy({ j in pods.contains { ordinal($0) == j && Workload.isReady($0) } }) { break }
            let podName = "\(name)-\(i)"
            var pod = Workload.pod(
                from: spec?["template"], namespace: namespace, owner: owner,
                extraLabels: ["controller-revision-hash": i < partition ? (podRevisionOfCurrent(sts) ?? revision) : revision,
                              "statefulset.kubernetes.io/pod-name": podName, "apps.kubernetes.io/pod-index": String(i)],
                name: podName)
            pod["spec"]?["hostname"] = .string(podName)
            if let service = spec?["serviceName"]?.stringValue, !service.isEmpty { pod["spec"]?["subdomain"] = .string(service) }
            if let created = try? await api.createPod(pod, username: "system:serviceaccount:kube-system:statefulset-controller", groups: Workload.controllerGroups) {
                pods.append(created)
            }
            if !parallel { break }
        }
        for pod in pods.sorted(by: { ordinal($0) > ordinal($1) }) where ordinal(pod) >= desired {
            _ = try? api.deleteObject(ResourceCatalog.pods, namespace: namespace, name: pod.name, propagation: "Background")
            pods.removeAll { $0.name == pod.name }
            if !parallel { break }
        }
        // Rolling update: replace the highest outdated ordinal once everything is Ready.
        if rolling, pods.count == desired, pods.allSatisfy(Workload.isReady), allPods.count == pods.count,
           let outdated = pods.filter({ podRevision($0) != revision && ordinal($0) >= partition }).max(by: { ordinal($0) < ordinal($1) }) {
            _ = try? api.deleteObject(ResourceCatalog.pods, namespace: namespace, name: outdated.name, propagation: "Background")
            pods.removeAll { $0.name == outdated.name }
        }
        let ready = pods.filter(Workload.isReady).count
        let updated = pods.filter { podRevision($0) == revision }.count
        let current = sts.value["status"]?["currentRevision"]?.stringValue ?? revision
        let done = updated == desired && pods.count == desired
        var status: JSONValue = [
            "observedGeneration": sts.value["metadata"]?["generation"] ?? 1,
            "replicas": .number(Double(pods.count)), "readyReplicas": .number(Double(ready)),
            "availableReplicas": .number(Double(ready)), "updatedReplicas": .number(Double(updated)),
            "currentReplicas": .number(Double(done ? pods.count : pods.filter { podRevision($0) == current }.count)),
            "currentRevision": .string(done ? revision : current), "updateRevision": .string(revision),
            "collisionCount": 0,
        ]
        if ready == 0 { status["readyReplicas"] = 0 }
        if let latest = api.store.get(type, namespace: namespace, name: name) { Workload.writeStatus(api, type, latest, status) }
    }

    func podRevisionOfCurrent(_ sts: StoredObject) -> String? { sts.value["status"]?["currentRevision"]?.stringValue }
}
