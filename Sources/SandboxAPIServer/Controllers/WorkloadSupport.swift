import KubeClient

/// What the workload controllers share: owner references, pod readiness, template hashes,
/// status writes that change nothing when nothing changed.
enum Workload {
    /// The groups of the controllers' service accounts, as webhooks see them in `userInfo`.
    static let controllerGroups = ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]

    static func ownerReference(_ owner: StoredObject, kind: String, apiVersion: String = "apps/v1") -> JSONValue {
        ["apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(owner.name), "uid": .string(owner.uid),
         "controller": true, "blockOwnerDeletion": true]
    }

    static func isOwned(_ object: StoredObject, by owner: StoredObject) -> Bool {
        (object.value["metadata"]?["ownerReferences"]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == owner.uid }
    }

    static func isTerminating(_ object: StoredObject) -> Bool { object.value["metadata"]?["deletionTimestamp"] != nil }

    static func isReady(_ pod: StoredObject) -> Bool {
        (pod.value["status"]?["conditions"]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
    }

    /// Pods of `owner` in its namespace that are not being deleted.
    static func pods(of owner: StoredObject, store: ObjectStore) -> [StoredObject] {
        store.list(ResourceCatalog.pods, namespace: owner.namespace).items.map(\.object).filter {
            isOwned($0, by: owner) && !isTerminating($0)
        }
    }

    /// The `pod-template-hash`: FNV-32a of the template, its decimal digits mapped onto the
    /// generateName alphabet, as the real controller does (not the same value, the same shape).
    static func templateHash(_ template: JSONValue?) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in JSONBytes.encode(template ?? .null) {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return String(String(hash).map { NameGenerator.alphabet[Int($0.asciiValue! - 48) % NameGenerator.alphabet.count] })
    }

    /// A pod template as compared between a Deployment and its ReplicaSets: without the
    /// `pod-template-hash` label and without null fields (what `rollout undo` copies back from a
    /// ReplicaSet must find that ReplicaSet again).
    static func comparableTemplate(_ template: JSONValue?) -> JSONValue {
        func dropNulls(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let fields):
                var out: [String: JSONValue] = [:]
                for (k, v) in fields where !v.isNull { out[k] = dropNulls(v) }
                return .object(out)
            case .array(let items): return .array(items.map(dropNulls))
            default: return value
            }
        }
        var result = dropNulls(template ?? [:])
        if var labels = result["metadata"]?["labels"]?.objectValue {
            labels["pod-template-hash"] = nil
            result["metadata"]?["labels"] = .object(labels)
        }
        return result
    }

    /// Resolves an int-or-percent (`maxSurge: 25%`) against a total.
    static func resolve(_ value: JSONValue?, total: Int, roundUp: Bool) -> Int {
        if let n = value?.intValue { return n }
        if let s = value?.stringValue, s.hasSuffix("%"), let p = Int(s.dropLast()) {
            let scaled = Double(p * total) / 100
            return Int(roundUp ? scaled.rounded(.up) : scaled.rounded(.down))
        }
        if let s = value?.stringValue, let n = Int(s) { return n }
        return 0
    }

    /// Writes `status` through the status path; a write that changes nothing is dropped by the store.
    static func writeStatus(_ api: KubernetesAPI, _ type: ResourceType, _ object: StoredObject, _ status: JSONValue) {
        guard object.value["status"] != status else { return }
        _ = try? api.store.update(type, namespace: object.namespace, name: object.name) { current in
            var value = current.value
            value["status"] = status
            return value
        }
    }

    /// A condition that keeps its transition time while its status stays the same.
    static func condition(
        _ type: String, _ status: String, reason: String, message: String, previous: [JSONValue], now: String
    ) -> JSONValue {
        let old = previous.first { $0["type"]?.stringValue == type }
        let same = old?["status"]?.stringValue == status
        let sameReason = same && old?["reason"]?.stringValue == reason
        return [
            "type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
            "lastTransitionTime": same ? (old?["lastTransitionTime"] ?? .string(now)) : .string(now),
            "lastUpdateTime": sameReason ? (old?["lastUpdateTime"] ?? .string(now)) : .string(now),
        ]
    }

    /// A pod for a workload's template.
    static func pod(from template: JSONValue?, namespace: String, owner: JSONValue, extraLabels: [String: String],
                    name: String? = nil, generateName: String? = nil) -> JSONValue {
        var labels = template?["metadata"]?["labels"]?.objectValue ?? [:]
        for (k, v) in extraLabels { labels[k] = .string(v) }
        var meta: JSONValue = ["namespace": .string(namespace), "labels": .object(labels), "ownerReferences": [owner]]
        if let annotations = template?["metadata"]?["annotations"] { meta["annotations"] = annotations }
        if let name { meta["name"] = .string(name) }
        if let generateName { meta["generateName"] = .string(generateName) }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template?["spec"] ?? [:]]
    }
}
