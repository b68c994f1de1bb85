import Foundation
import KubeClient
import Synchronization

/// What the API server does to an object before storing it: defaults and server-set fields
/// (validation is `SandboxAPIMachinery`'s, through `Machinery.validate`).
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
