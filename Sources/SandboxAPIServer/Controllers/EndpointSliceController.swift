import KubeClient

/// `discovery.k8s.io/v1` EndpointSlices for each Service with a selector, as the real
/// endpointslice controller keeps them beside the (deprecated) Endpoints: one slice per set of
/// resolved ports (a named targetPort can resolve differently per pod), labelled
/// `kubernetes.io/service-name` and owned by the Service; every selected pod with an IP is an
/// endpoint, a terminating one with `ready: false, terminating: true` (kube-proxy sends it no new
/// connection), and a pod whose `hostname` and `subdomain` name the Service carries its hostname
/// (headless DNS records).
struct EndpointSliceController: Sendable {
    let api: KubernetesAPI

    static let managedBy = "endpointslice-controller.k8s.io"
    static let serviceNameLabel = "kubernetes.io/service-name"
    static let managedByLabel = "endpointslice.kubernetes.io/managed-by"

    func reconcilePod(_ pod: StoredObject, previous: StoredObject?) {
        for (_, service) in api.store.list(ResourceCatalog.services, namespace: pod.namespace).items {
            guard let selector = Self.selector(of: service) else { continue }
            if [pod, previous].contains(where: { $0.map { Self.selects(selector, $0) } ?? false }) {
                reconcile(namespace: pod.namespace, name: service.name)
            }
        }
    }

    func reconcile(namespace: String, name: String) {
        let store = api.store
        let service = store.get(ResourceCatalog.services, namespace: namespace, name: name)
        let managedBy: String
        let desired: [(ports: [JSONValue], endpoints: [JSONValue])]
        if let service, let selector = Self.selector(of: service) {
            managedBy = Self.managedBy
            desired = Self.fromPods(service: service, selector: selector, store: store)
        } else if let service, let endpoints = store.get(ResourceCatalog.endpoints, namespace: namespace, name: name),
                  endpoints.labels["endpointslice.kubernetes.io/skip-mirror"] != "true" {
            // A service without a selector whose Endpoints someone wrote by hand: mirrored, as
            // the endpointslice-mirroring controller does, so kube-proxy and DNS see them.
            managedBy = Self.mirroringManagedBy
            desired = Self.mirror(endpoints)
        } else {
            managedBy = Self.managedBy
            desired = []
        }
        apply(desired, service: service, namespace: namespace, name: name, managedBy: managedBy)
    }

    static let mirroringManagedBy = "endpointslicemirroring-controller.k8s.io"

    /// The selected pods, grouped by how the service's ports resolve for them; a service without
    /// pods still has its (empty) slice.
    static func fromPods(service: StoredObject, selector: [String: JSONValue], store: ObjectStore) -> [(ports: [JSONValue], endpoints: [JSONValue])] {
        let pods = store.list(ResourceCatalog.pods, namespace: service.namespace).items.map(\.object)
            .filter { selects(selector, $0) && $0.value["status"]?["podIP"]?.stringValue != nil }
            .sorted { $0.name < $1.name }
        let servicePorts = service.value["spec"]?["ports"]?.arrayValue ?? []
        var groups: [[JSONValue]: [JSONValue]] = [:]
        var order: [[JSONValue]] = []
        for pod in pods {
            let ports = servicePorts.compactMap { resolve($0, for: pod) }
            if groups[ports] == nil { order.append(ports) }
            groups[ports, default: []].append(endpoint(pod, service: service.name))
        }
        // Without pods, one placeholder slice without ports or endpoints, as the real controller keeps.
        if order.isEmpty { return [([], [])] }
        return order.map { ($0, groups[$0] ?? []) }
    }

    /// One slice per subset of hand-written Endpoints: addresses ready, notReadyAddresses not.
    static func mirror(_ endpoints: StoredObject) -> [(ports: [JSONValue], endpoints: [JSONValue])] {
        (endpoints.value["subsets"]?.arrayValue ?? []).map { subset in
            let ports: [JSONValue] = (subset["ports"]?.arrayValue ?? []).map { port in
                ["name": .string(port["name"]?.stringValue ?? ""), "port": port["port"] ?? 0, "protocol": port["protocol"] ?? "TCP"]
            }
            func entries(_ key: String, ready: Bool) -> [JSONValue] {
                (subset[key]?.arrayValue ?? []).map { address in
                    var entry: JSONValue = [
                        "addresses": [address["ip"] ?? ""],
                        "conditions": ["ready": .bool(ready), "serving": .bool(ready), "terminating": false],
                    ]
                    if let host = address["hostname"]?.stringValue { entry["hostname"] = .string(host) }
                    if let node = address["nodeName"]?.stringValue { entry["nodeName"] = .string(node) }
                    if let target = address["targetRef"] { entry["targetRef"] = target }
                    return entry
                }
            }
            return (ports, entries("addresses", ready: true) + entries("notReadyAddresses", ready: false))
        }
    }

    /// Makes the store's slices for the service exactly `desired`: reuses slices (the one that
    /// carried the same ports first), creates what is missing, deletes what is left.
    func apply(
        _ desired: [(ports: [JSONValue], endpoints: [JSONValue])], service: StoredObject?, namespace: String, name: String,
        managedBy: String
    ) {
        let store = api.store
        let type = ResourceCatalog.endpointSlices
        var unused = store.list(type, namespace: namespace).items.map(\.object).filter {
            $0.labels[Self.serviceNameLabel] == name
                && [Self.managedBy, Self.mirroringManagedBy].contains($0.labels[Self.managedByLabel] ?? "")
        }
        guard let service else {
            for slice in unused { _ = try? store.delete(type, namespace: namespace, name: slice.name) }
            return
        }
        var labels = service.value["metadata"]?["labels"]?.objectValue ?? [:]
        labels[Self.serviceNameLabel] = .string(name)
        labels[Self.managedByLabel] = .string(managedBy)
        for (ports, endpoints) in desired {
            let reused = unused.firstIndex { ($0.value["ports"]?.arrayValue ?? []) == ports } ?? unused.indices.first
            if let index = reused {
                let slice = unused.remove(at: index)
                _ = try? store.update(type, namespace: namespace, name: slice.name) { current in
                    var value = current.value
                    value["metadata"]?["labels"] = .object(labels)
                    value["endpoints"] = .array(endpoints)
                    value["ports"] = .array(ports)
                    return value
                }
            } else {
                let slice: JSONValue = [
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                    "metadata": [
                        "generateName": .string("\(name)-"), "namespace": .string(namespace), "labels": .object(labels),
                        "ownerReferences": [[
                            "apiVersion": "v1", "kind": "Service", "name": .string(name), "uid": .string(service.uid),
                            "controller": true, "blockOwnerDeletion": true,
                        ]],
                    ],
                    "addressType": "IPv4", "endpoints": .array(endpoints), "ports": .array(ports),
                ]
                _ = try? api.createObject(type, slice)
            }
        }
        for slice in unused { _ = try? store.delete(type, namespace: namespace, name: slice.name) }
    }

    static func selector(of service: StoredObject) -> [String: JSONValue]? {
        guard let selector = service.value["spec"]?["selector"]?.objectValue, !selector.isEmpty else { return nil }
        return selector
    }

    static func selects(_ selector: [String: JSONValue], _ pod: StoredObject) -> Bool {
        let labels = pod.labels
        return selector.allSatisfy { labels[$0.key] == $0.value.stringValue }
    }

    /// A service port as the slice carries it for `pod`: its name, protocol and the port the pod
    /// listens on; nil when a named targetPort is not one of the pod's ports.
    static func resolve(_ port: JSONValue, for pod: StoredObject) -> JSONValue? {
        var number = port["targetPort"]?.intValue ?? port["port"]?.intValue
        if let named = port["targetPort"]?.stringValue {
            number = Int(named) ?? (pod.value["spec"]?["containers"]?.arrayValue ?? []).lazy.compactMap { container in
                (container["ports"]?.arrayValue ?? []).first { $0["name"]?.stringValue == named }?["containerPort"]?.intValue
            }.first
        }
        guard let number else { return nil }
        return [
            "name": .string(port["name"]?.stringValue ?? ""), "port": .number(Double(number)),
            "protocol": port["protocol"] ?? "TCP",
        ]
    }

    static func endpoint(_ pod: StoredObject, service: String) -> JSONValue {
        let terminating = Workload.isTerminating(pod)
        let ready = Workload.isReady(pod)
        var endpoint: JSONValue = [
            "addresses": [pod.value["status"]?["podIP"] ?? ""],
            "conditions": ["ready": .bool(ready && !terminating), "serving": .bool(ready), "terminating": .bool(terminating)],
            "targetRef": ["kind": "Pod", "name": .string(pod.name), "namespace": .string(pod.namespace), "uid": .string(pod.uid)],
        ]
        if let node = pod.value["spec"]?["nodeName"]?.stringValue { endpoint["nodeName"] = .string(node) }
        if let hostname = pod.value["spec"]?["hostname"]?.stringValue, pod.value["spec"]?["subdomain"]?.stringValue == service {
            endpoint["hostname"] = .string(hostname)
        }
        return endpoint
    }
}
