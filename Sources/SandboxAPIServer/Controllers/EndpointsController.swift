import KubeClient

/// Endpoints for each Service with a selector: ready pods in `addresses`, the others in
/// `notReadyAddresses`, ports with named target ports resolved per pod.
struct EndpointsController: Sendable {
    let api: KubernetesAPI

    func reconcilePod(_ pod: StoredObject, previous: StoredObject?) {
        for (_, service) in api.store.list(ResourceCatalog.services, namespace: pod.namespace).items {
            guard let selector = service.value["spec"]?["selector"]?.objectValue, !selector.isEmpty else { continue }
            func selects(_ p: StoredObject?) -> Bool {
                guard let p else { return false }
                let labels = p.labels
                return selector.allSatisfy { labels[$0.key] == $0.value.stringValue }
            }
            if selects(pod) || selects(previous) { reconcile(namespace: pod.namespace, name: service.name) }
        }
    }

    func reconcile(namespace: String, name: String) {
        let store = api.store
        let type = ResourceCatalog.endpoints
        guard let service = store.get(ResourceCatalog.services, namespace: namespace, name: name) else {
            if let existing = store.get(type, namespace: namespace, name: name),
               existing.value["metadata"]?["labels"]?["endpoints.kubernetes.io/managed-by"] == "endpoint-controller" {
                _ = try? store.delete(type, namespace: namespace, name: name)
            }
            return
        }
        guard let selector = service.value["spec"]?["selector"]?.objectValue, !selector.isEmpty else { return }
        let pods = store.list(ResourceCatalog.pods, namespace: namespace).items.map(\.object).filter { pod in
            let labels = pod.labels
            return selector.allSatisfy { labels[$0.key] == $0.value.stringValue } && !Workload.isTerminating(pod)
                && pod.value["status"]?["podIP"]?.stringValue != nil
        }
        var ready: [JSONValue] = []
        var notReady: [JSONValue] = []
        for pod in pods.sorted(by: { $0.name < $1.name }) {
            let address: JSONValue = [
                "ip": pod.value["status"]?["podIP"] ?? "", "nodeName": pod.value["spec"]?["nodeName"] ?? .null,
                "targetRef": ["kind": "Pod", "name": .string(pod.name), "namespace": .string(namespace), "uid": .string(pod.uid)],
            ]
            if Workload.isReady(pod) { ready.append(address) } else { notReady.append(address) }
        }
        let ports: [JSONValue] = (service.value["spec"]?["ports"]?.arrayValue ?? []).compactMap { port in
            var resolved = port["targetPort"]?.intValue ?? port["port"]?.intValue
            if let named = port["targetPort"]?.stringValue {
                resolved = Int(named) ?? pods.lazy.compactMap { pod in
                    (pod.value["spec"]?["containers"]?.arrayValue ?? []).lazy.compactMap { c in
                        (c["ports"]?.arrayValue ?? []).first { $0["name"]?.stringValue == named }?["containerPort"]?.intValue
                    }.first
                }.first
            }
            guard let resolved else { return nil }
            var entry: JSONValue = ["port": .number(Double(resolved)), "protocol": port["protocol"] ?? "TCP"]
            if let n = port["name"]?.stringValue, !n.isEmpty { entry["name"] = .string(n) }
            return entry
        }
        var subset: JSONValue = ["ports": .array(ports)]
        if !ready.isEmpty { subset["addresses"] = .array(ready) }
        if !notReady.isEmpty { subset["notReadyAddresses"] = .array(notReady) }
        var labels = service.value["metadata"]?["labels"]?.objectValue ?? [:]
        labels["endpoints.kubernetes.io/managed-by"] = "endpoint-controller"
        var endpoints: JSONValue = [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels)],
        ]
        if !pods.isEmpty { endpoints["subsets"] = [subset] }
        if store.get(type, namespace: namespace, name: name) == nil {
            _ = try? api.createObject(type, endpoints)
        } else {
            _ = try? store.update(type, namespace: namespace, name: name) { current in
                var value = current.value
                value["metadata"]?["labels"] = .object(labels)
                value["subsets"] = endpoints["subsets"]
                return value
            }
        }
    }
}
