import KubeClient

/// Deployment -> ReplicaSets: one ReplicaSet per pod template (named by its hash), rolling
/// from the old ones to the new within maxSurge/maxUnavailable (or Recreate), revision
/// annotations and history limit, and the status `kubectl rollout status` and `kubectl wait` read.
struct DeploymentController: Sendable {
    let api: KubernetesAPI
    static let revisionKey = "deployment.kubernetes.io/revision"

    func revision(_ rs: StoredObject) -> Int {
        Int(rs.value["metadata"]?["annotations"]?[Self.revisionKey]?.stringValue ?? "") ?? 0
    }

    func replicas(_ rs: StoredObject) -> Int { rs.value["spec"]?["replicas"]?.intValue ?? 0 }
    func statusInt(_ o: StoredObject, _ field: String) -> Int { o.value["status"]?[field]?.intValue ?? 0 }

    func setReplicas(_ rs: StoredObject, _ count: Int, annotations: [String: String] = [:]) {
        _ = try? api.store.update(ResourceCatalog.replicaSets, namespace: rs.namespace, name: rs.name) { current in
            var value = current.value
            value["spec"]?["replicas"] = .number(Double(count))
            for (k, v) in annotations { value["metadata"]?["annotations"]?[k] = .string(v) }
            return value
        }
    }

    func reconcile(namespace: String, name: String) {
        let store = api.store
        guard let deployment = store.get(ResourceCatalog.deployments, namespace: namespace, name: name),
              !Workload.isTerminating(deployment) else { return }
        let spec = deployment.value["spec"]
        let desired = spec?["replicas"]?.intValue ?? 1
        let template = spec?["template"]
        let hash = Workload.templateHash(template)
        var sets = store.list(ResourceCatalog.replicaSets, namespace: namespace).items.map(\.object)
            .filter { Workload.isOwned($0, by: deployment) && !Workload.isTerminating($0) }
        let maxRevision = sets.map(revision).max() ?? 0
        let strategy = spec?["strategy"]
        let recreate = strategy?["type"]?.stringValue == "Recreate"
        var maxSurge = recreate ? 0 : Workload.resolve(strategy?["rollingUpdate"]?["maxSurge"], total: desired, roundUp: true)
        var maxUnavailable = recreate ? desired : Workload.resolve(strategy?["rollingUpdate"]?["maxUnavailable"], total: desired, roundUp: false)
        if maxSurge == 0 && maxUnavailable == 0 { maxUnavailable = 1 }
        maxSurge = max(0, maxSurge)
        maxUnavailable = max(0, maxUnavailable)

        let wanted = Workload.comparableTemplate(template)
        var newRS = sets.first { $0.value["metadata"]?["labels"]?["pod-template-hash"]?.stringValue == hash }
            ?? sets.first { Workload.comparableTemplate($0.value["spec"]?["template"]) == wanted }
        if newRS == nil {
            newRS = createReplicaSet(deployment, template: template, hash: hash, revision: maxRevision + 1,
                                     replicas: sets.isEmpty ? desired : 0, desired: desired, maxSurge: maxSurge)
            if let newRS { sets.append(newRS) }
        } else if let current = newRS, revision(current) < maxRevision {
            // Rolling back to an old template makes its ReplicaSet the newest revision.
            setReplicas(current, replicas(current), annotations: [Self.revisionKey: String(maxRevision + 1)])
        }
        guard let newRS = newRS.flatMap({ store.get(ResourceCatalog.replicaSets, namespace: namespace, name: $0.name) }) else { return }
        let oldSets = sets.filter { $0.name != newRS.name }
        let paused = spec?["paused"]?.boolValue == true

        if !paused {
            if recreate {
                let oldPods = oldSets.reduce(0) { $0 + statusInt($1, "replicas") }
                for old in oldSets where replicas(old) > 0 { setReplicas(old, 0) }
                if oldPods == 0 && oldSets.allSatisfy({ replicas($0) == 0 }) && replicas(newRS) != desired { setReplicas(newRS, desired) }
            } else {
                rollOut(newRS: newRS, oldSets: oldSets, desired: desired, maxSurge: maxSurge, maxUnavailable: maxUnavailable)
            }
        }
        cleanUpHistory(oldSets, limit: spec?["revisionHistoryLimit"]?.intValue ?? 10)
        updateStatus(deployment, newRS: newRS, desired: desired, maxUnavailable: maxUnavailable)
    }

    func createReplicaSet(_ deployment: StoredObject, template: JSONValue?, hash: String, revision: Int,
                          replicas: Int, desired: Int, maxSurge: Int) -> StoredObject? {
        var template = template ?? [:]
        var labels = template["metadata"]?["labels"]?.objectValue ?? [:]
        labels["pod-template-hash"] = .string(hash)
        if template["metadata"] == nil { template["metadata"] = [:] }
        template["metadata"]?["labels"] = .object(labels)
        var selector = deployment.value["spec"]?["selector"] ?? [:]
        var matchLabels = selector["matchLabels"]?.objectValue ?? [:]
        matchLabels["pod-template-hash"] = .string(hash)
        selector["matchLabels"] = .object(matchLabels)
        let rs: JSONValue = [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": [
                "name": .string("\(deployment.name)-\(hash)"), "namespace": .string(deployment.namespace),
                "labels": .object(labels),
                "annotations": [
                    "deployment.kubernetes.io/revision": .string(String(revision)),
                    "deployment.kubernetes.io/desired-replicas": .string(String(desired)),
                    "deployment.kubernetes.io/max-replicas": .string(String(desired + maxSurge)),
                ],
                "ownerReferences": [Workload.ownerReference(deployment, kind: "Deployment")],
            ],
            "spec": ["replicas": .number(Double(replicas)), "selector": selector, "template": template,
                     "minReadySeconds": deployment.value["spec"]?["minReadySeconds"] ?? 0],
        ]
        return try? api.createObject(ResourceCatalog.replicaSets, rs)
    }

    /// One step of a rolling update; the next ReplicaSet status change triggers the next step.
    func rollOut(newRS: StoredObject, oldSets: [StoredObject], desired: Int, maxSurge: Int, maxUnavailable: Int) {
        let total = replicas(newRS) + oldSets.reduce(0) { $0 + replicas($1) }
        let newCount = replicas(newRS)
        if newCount > desired {
            setReplicas(newRS, desired)
        } else if newCount < desired {
            let room = desired + maxSurge - total
            if room > 0 { setReplicas(newRS, min(desired, newCount + room)) }
        }
        // Scale old ReplicaSets down as far as availability allows.
        let available = statusInt(newRS, "availableReplicas") + oldSets.reduce(0) { $0 + statusInt($1, "availableReplicas") }
        var removable = available - (desired - maxUnavailable)
        for old in oldSets.sorted(by: { revision($0) < revision($1) }) where replicas(old) > 0 {
            // Replicas that are not available can go at no cost.
            let unavailable = max(0, replicas(old) - statusInt(old, "availableReplicas"))
            let cut = min(replicas(old), unavailable + max(0, removable))
            guard cut > 0 else { continue }
            removable -= max(0, cut - unavailable)
            setReplicas(old, replicas(old) - cut)
        }
    }

    func cleanUpHistory(_ oldSets: [StoredObject], limit: Int) {
        let idle = oldSets.filter { replicas($0) == 0 && statusInt($0, "replicas") == 0 }.sorted { revision($0) < revision($1) }
        guard idle.count > limit else { return }
        for rs in idle.prefix(idle.count - limit) {
            _ = try? api.deleteObject(ResourceCatalog.replicaSets, namespace: rs.namespace, name: rs.name, propagation: "Background")
        }
    }

    func updateStatus(_ deployment: StoredObject, newRS: StoredObject, desired: Int, maxUnavailable: Int) {
        let store = api.store
        guard let latest = store.get(ResourceCatalog.deployments, namespace: deployment.namespace, name: deployment.name) else { return }
        let sets = store.list(ResourceCatalog.replicaSets, namespace: deployment.namespace).items.map(\.object)
            .filter { Workload.isOwned($0, by: latest) }
        let newest = sets.first { $0.name == newRS.name } ?? newRS
        let replicasTotal = sets.reduce(0) { $0 + statusInt($1, "replicas") }
        let ready = sets.reduce(0) { $0 + statusInt($1, "readyReplicas") }
        let available = sets.reduce(0) { $0 + statusInt($1, "availableReplicas") }
        let updated = statusInt(newest, "replicas")
        let previous = latest.value["status"]?["conditions"]?.arrayValue ?? []
        let now = Timestamp.now()
        let minimum = available >= desired - maxUnavailable
        let complete = updated == desired && replicasTotal == desired && available == desired
            && replicas(newest) == desired
        let conditions: [JSONValue] = [
            Workload.condition(
                "Available", minimum ? "True" : "False",
                reason: minimum ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                message: minimum ? "Deployment has minimum availability." : "Deployment does not have minimum availability.",
                previous: previous, now: now),
            Workload.condition(
                "Progressing", "True",
                reason: complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                message: complete ? "ReplicaSet \"\(newest.name)\" has successfully progressed." : "ReplicaSet \"\(newest.name)\" is progressing.",
                previous: previous, now: now),
        ]
        var status: JSONValue = [
            "observedGeneration": latest.value["metadata"]?["generation"] ?? 1,
            "replicas": .number(Double(replicasTotal)), "updatedReplicas": .number(Double(updated)),
            "readyReplicas": .number(Double(ready)), "availableReplicas": .number(Double(available)),
            "conditions": .array(conditions),
        ]
        let unavailable = max(0, replicasTotal - available)
        if unavailable > 0 { status["unavailableReplicas"] = .number(Double(unavailable)) }
        let rev = newest.value["metadata"]?["annotations"]?[Self.revisionKey]
        if let rev, latest.value["metadata"]?["annotations"]?[Self.revisionKey] != rev {
            _ = try? store.update(ResourceCatalog.deployments, namespace: latest.namespace, name: latest.name) { current in
                var value = current.value
                if value["metadata"]?["annotations"] == nil { value["metadata"]?["annotations"] = [:] }
                value["metadata"]?["annotations"]?[Self.revisionKey] = rev
                return value
            }
        }
        if let fresh = store.get(ResourceCatalog.deployments, namespace: latest.namespace, name: latest.name) {
            Workload.writeStatus(api, ResourceCatalog.deployments, fresh, status)
        }
    }
}
