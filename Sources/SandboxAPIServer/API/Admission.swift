import Foundation
import KubeClient
import Synchronization

/// What the API server does to an object before storing it: defaults, server-set fields and
/// validation with Kubernetes' own 422 messages.
extension KubernetesAPI {
    func invalid(_ type: ResourceType, _ object: JSONValue, _ causes: [APIError.Cause]) -> APIError {
        APIError.invalid(kind: type.kind, group: type.group, name: object["metadata"]?["name"]?.stringValue ?? "", causes: causes)
    }

    /// Defaults and server-owned fields for a new object.
    func admitCreate(_ type: ResourceType, _ object: inout JSONValue) throws(APIError) {
        Machinery.applyDefaults(type, to: &object)
        switch type.kind {
        case "Namespace":
            object["spec"] = ["finalizers": ["kubernetes"]]
            object["status"] = ["phase": "Active"]
            var labels = object["metadata"]?["labels"]?.objectValue ?? [:]
            labels["kubernetes.io/metadata.name"] = object["metadata"]?["name"] ?? ""
            object["metadata"]?["labels"] = .object(labels)
        case "Pod":
            object["status"] = ["phase": "Pending", "qosClass": "BestEffort"]
            if object["spec"]?["serviceAccountName"] == nil { object["spec"]?["serviceAccountName"] = "default" }
            let account = object["spec"]?["serviceAccountName"]
            if object["spec"]?["serviceAccount"] == nil { object["spec"]?["serviceAccount"] = account }
        case "Service":
            try allocateClusterIP(&object)
            if object["status"] == nil { object["status"] = ["loadBalancer": [:]] }
        case "Deployment", "ReplicaSet", "StatefulSet":
            object["status"] = [:]
        default: break
        }
    }

    func validate(_ type: ResourceType, _ object: JSONValue) throws(APIError) {
        var causes: [APIError.Cause] = []
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        for message in Machinery.nameErrors(type, name: name) {
            causes.append(.init(reason: "FieldValueInvalid", field: "metadata.name", message: "Invalid value: \"\(name)\": \(message)"))
        }
        switch type.kind {
        case "Pod":
            causes += podSpecErrors(object["spec"], field: "spec")
        case "Deployment", "ReplicaSet", "StatefulSet":
            let spec = object["spec"]
            if let replicas = spec?["replicas"]?.intValue, replicas < 0 {
                causes.append(.init(reason: "FieldValueInvalid", field: "spec.replicas", message: "Invalid value: \(replicas): must be greater than or equal to 0"))
            }
            let selector = spec?["selector"]?["matchLabels"]?.objectValue ?? [:]
            if spec?["selector"] == nil {
                causes.append(.init(reason: "FieldValueRequired", field: "spec.selector", message: "Required value"))
            }
            let labels = spec?["template"]?["metadata"]?["labels"]?.objectValue ?? [:]
            if spec?["selector"] != nil, !selector.allSatisfy({ labels[$0.key] == $0.value }) {
                let shown = labels.keys.sorted().map { "\"\($0)\":\"\(labels[$0]?.stringValue ?? "")\"" }.joined(separator: ", ")
                causes.append(.init(reason: "FieldValueInvalid", field: "spec.template.metadata.labels", message: "Invalid value: map[string]string{\(shown)}: `selector` does not match template `labels`"))
            }
            causes += podSpecErrors(spec?["template"]?["spec"], field: "spec.template.spec")
        case "Service":
            let ports = object["spec"]?["ports"]?.arrayValue ?? []
            if ports.isEmpty, object["spec"]?["clusterIP"]?.stringValue != "None" {
                causes.append(.init(reason: "FieldValueRequired", field: "spec.ports", message: "Required value"))
            }
            if ports.count > 1 {
                for (i, p) in ports.enumerated() where (p["name"]?.stringValue ?? "").isEmpty {
                    causes.append(.init(reason: "FieldValueRequired", field: "spec.ports[\(i)].name", message: "Required value"))
                }
            }
        case "ConfigMap", "Secret":
            for key in (object["data"]?.objectValue ?? [:]).keys where key.isEmpty || !key.allSatisfy({ $0.isLetter || $0.isNumber || "-._".contains($0) }) {
                causes.append(.init(reason: "FieldValueInvalid", field: "data[\(key)]", message: "Invalid value: \"\(key)\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"))
            }
        default: break
        }
        if !causes.isEmpty { throw invalid(type, object, causes) }
    }

    func podSpecErrors(_ spec: JSONValue?, field: String) -> [APIError.Cause] {
        var causes: [APIError.Cause] = []
        let containers = spec?["containers"]?.arrayValue ?? []
        if containers.isEmpty {
            causes.append(.init(reason: "FieldValueRequired", field: "\(field).containers", message: "Required value"))
        }
        for (i, c) in containers.enumerated() {
            if (c["name"]?.stringValue ?? "").isEmpty {
                causes.append(.init(reason: "FieldValueRequired", field: "\(field).containers[\(i)].name", message: "Required value"))
            }
            if (c["image"]?.stringValue ?? "").isEmpty {
                causes.append(.init(reason: "FieldValueRequired", field: "\(field).containers[\(i)].image", message: "Required value"))
            }
        }
        return causes
    }

    func allocateClusterIP(_ service: inout JSONValue) throws(APIError) {
        let name = service["metadata"]?["name"]?.stringValue ?? ""
        let requested = service["spec"]?["clusterIP"]?.stringValue ?? service["spec"]?["clusterIPs"]?[0]?.stringValue ?? ""
        if requested == "None" {
            service["spec"]?["clusterIPs"] = ["None"]
            return
        }
        if service["spec"]?["type"]?.stringValue == "ExternalName" { return }
        let used = Set(store.list(ResourceCatalog.services, namespace: nil).items.compactMap {
            $0.object.value["spec"]?["clusterIP"]?.stringValue
        })
        let ip: String
        if requested.isEmpty {
            guard let free = serviceIPs.allocate(excluding: used) else {
                throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: failed to allocate a serviceIP: range is full")
            }
            ip = free
        } else {
            func fail(_ why: String) -> APIError {
                APIError.invalid(kind: "Service", group: "", name: name, causes: [
                    .init(reason: "FieldValueInvalid", field: "spec.clusterIPs",
                          message: "Invalid value: []string{\"\(requested)\"}: failed to allocate IP \(requested): \(why)"),
                ])
            }
            guard ServiceIPAllocator.inRange(requested) else {
                throw fail("the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(ServiceIPAllocator.cidr)")
            }
            guard !used.contains(requested), serviceIPs.claim(requested) else { throw fail("provided IP is already allocated") }
            ip = requested
        }
        service["spec"]?["clusterIP"] = .string(ip)
        service["spec"]?["clusterIPs"] = [.string(ip)]
        service["spec"]?["ipFamilies"] = ["IPv4"]
        service["spec"]?["ipFamilyPolicy"] = "SingleStack"
        if service["spec"]?["internalTrafficPolicy"] == nil { service["spec"]?["internalTrafficPolicy"] = "Cluster" }
    }
}

/// Service cluster IPs from 10.96.0.0/16. Claimed addresses stay reserved until released, so
/// two concurrent creates never get the same one.
final class ServiceIPAllocator: Sendable {
    static let cidr = "10.96.0.0/16"
    private let claimed = Mutex<Set<String>>([])

    static func inRange(_ ip: String) -> Bool {
        let parts = ip.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4, parts.allSatisfy({ (0...255).contains($0) }) else { return false }
        let host = parts[2] * 256 + parts[3]
        return parts[0] == 10 && parts[1] == 96 && host != 0 && host != 65535
    }

    func claim(_ ip: String) -> Bool { claimed.withLock { $0.insert(ip).inserted } }

    func release(_ ip: String) { _ = claimed.withLock { $0.remove(ip) } }

    func allocate(excluding used: Set<String>) -> String? {
        claimed.withLock { claimed in
            // Random like the real allocator; 10.96.0.1-10.96.0.15 stay free for well-known services.
            for _ in 0..<1000 {
                let host = Int.random(in: 16..<65535)
                let ip = "10.96.\(host / 256).\(host % 256)"
                if !used.contains(ip), claimed.insert(ip).inserted { return ip }
            }
            return nil
        }
    }
}
