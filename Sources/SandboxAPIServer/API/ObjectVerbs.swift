import Foundation
import KubeClient
import SandboxAPIMachinery

/// get, create, update (PUT), patch and the status/scale/log/eviction subresources.
extension KubernetesAPI {
    func namespaceOf(_ path: ResourcePath) -> String { path.type.namespaced ? (path.namespace ?? "") : "" }

    func current(_ path: ResourcePath, name: String) throws(APIError) -> StoredObject {
        guard let object = store.get(path.type, namespace: namespaceOf(path), name: name) else {
            throw APIError.notFound(path.type, name)
        }
        return object
    }

    func wantsTable(_ request: APIRequest) -> Bool { request.accept.contains("as=Table") }

    func get(_ request: APIRequest, _ path: ResourcePath, name: String) throws(APIError) -> APIResponse {
        let object = try current(path, name: name)
        switch path.subresource {
        case "scale": return .json(scale(of: object.value, type: path.type))
        case "log": return try podLog(request, pod: object)
        default: break
        }
        if wantsTable(request) {
            return .json(Machinery.table(path.type, objects: [object.value], resourceVersion: String(object.resourceVersion), includeHeaders: true))
        }
        return .full(status: 200, contentType: "application/json", body: object.bytes)
    }

    func create(_ request: APIRequest, _ path: ResourcePath) async throws(APIError) -> APIResponse {
        // Decoded into the kind's types first, as the real server does: a value of the wrong
        // type is a 400, unknown fields are dropped (and warned about, or refused).
        let directive = try Machinery.fieldValidation(request, options: "CreateOptions")
        let decoded = try Machinery.decodeBody(request, kind: path.type.kind, version: path.type.version, directive: directive)
        var object = decoded.object
        if let kind = object["kind"]?.stringValue, kind != path.type.kind {
            throw APIError.badRequest("the API version in the data (\(object["apiVersion"]?.stringValue ?? "")) does not match the expected API version (\(path.type.apiVersion))")
        }
        if path.type.namespaced {
            let pathNamespace = path.namespace ?? ""
            if let bodyNamespace = object["metadata"]?["namespace"]?.stringValue, !bodyNamespace.isEmpty, bodyNamespace != pathNamespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            guard !pathNamespace.isEmpty else { throw APIError.methodNotAllowed() }
            if object["metadata"] == nil { object["metadata"] = [:] }
            object["metadata"]?["namespace"] = .string(pathNamespace)
        }
        // Webhooks see who asks (AdmissionReview's userInfo).
        let username = request.userInfo.name
        let groups = request.userInfo.groups
        if isDryRun(request) {
            var copy = object
            if path.type.kind == "Pod" {
                Machinery.applyDefaults(path.type, to: &copy)
                copy = try await runMutatingWebhooks(
                    copy, operation: "CREATE", namespace: path.namespace ?? "", username: username, groups: groups, dryRun: true).object
            }
            try admitCreate(path.type, &copy)
            try Machinery.validate(path.type, copy)
            return APIResponse.json(copy, status: 201).withWarnings(decoded.warnings)
        }
        let stored = path.type.kind == "Pod"
            ? try await createPod(object, username: username, groups: groups)
            : try createObject(path.type, object)
        return APIResponse.full(status: 201, contentType: "application/json", body: stored.bytes).withWarnings(decoded.warnings)
    }

    func isDryRun(_ request: APIRequest) -> Bool { request.query["dryRun"] == "All" }

    /// Creates an object as the API does for clients: name, namespace and validation checks,
    /// defaults, then the store, then follow-ups (a namespace's default service account).
    func createObject(_ type: ResourceType, _ input: JSONValue) throws(APIError) -> StoredObject {
        var object = input
        if object["metadata"] == nil { object["metadata"] = [:] }
        let meta = object["metadata"]!
        let name = meta["name"]?.stringValue ?? ""
        let generateName = meta["generateName"]?.stringValue ?? ""
        if !type.namespaced { object["metadata"]?["namespace"] = nil }
        if name.isEmpty && generateName.isEmpty {
            throw APIError.invalid(kind: type.kind, group: type.group, name: "", causes: [
                .init(reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required"),
            ])
        }
        if type.namespaced {
            let namespace = meta["namespace"]?.stringValue ?? ""
            guard let ns = store.get(ResourceCatalog.namespaces, namespace: "", name: namespace) else {
                throw APIError.notFound(ResourceCatalog.namespaces, namespace)
            }
            if ns.value["metadata"]?["deletionTimestamp"] != nil {
                throw APIError(code: 403, reason: "Forbidden", message: "\(type.qualifiedName) \"\(name.isEmpty ? generateName : name)\" is forbidden: unable to create new content in namespace \(namespace) because it is being terminated")
            }
        }
        // Defaults first, as the real server validates a defaulted object; the name it will get
        // is generateName plus a valid suffix.
        try admitCreate(type, &object)
        var probe = object
        if name.isEmpty { probe["metadata"]?["name"] = .string(generateName + "bcdfg") }
        do {
            try Machinery.validate(type, probe)
        } catch {
            if type.kind == "Service", let ip = object["spec"]?["clusterIP"]?.stringValue { serviceIPs.release(ip) }
            throw error
        }
        let stored: StoredObject
        do {
            stored = try store.create(type, object)
        } catch {
            if type.kind == "Service", let ip = object["spec"]?["clusterIP"]?.stringValue { serviceIPs.release(ip) }
            throw error
        }
        if type.kind == "Namespace" {
            let sa: JSONValue = ["apiVersion": "v1", "kind": "ServiceAccount",
                                 "metadata": ["name": "default", "namespace": .string(stored.name)]]
            _ = try? store.create(ResourceCatalog.serviceAccounts, sa)
        }
        return stored
    }

    func replace(_ request: APIRequest, _ path: ResourcePath, name: String) throws(APIError) -> APIResponse {
        let directive = try Machinery.fieldValidation(request, options: "UpdateOptions")
        let scale = path.subresource == "scale"
        let decoded = try Machinery.decodeBody(
            request, kind: scale ? "Scale" : path.type.kind, version: scale ? "v1" : path.type.version, directive: directive)
        let body = decoded.object
        if let bodyName = body["metadata"]?["name"]?.stringValue, bodyName != name {
            throw APIError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        let stored = try updateObject(path, name: name, dryRun: isDryRun(request)) { (current: StoredObject) throws(APIError) -> JSONValue in
            if let rv = body["metadata"]?["resourceVersion"]?.stringValue, !rv.isEmpty, rv != String(current.resourceVersion) {
                throw APIError.conflict(path.type, name)
            }
            if scale {
                try Machinery.validateScale(body, name: name)
                var object = current.value
                object["spec"]?["replicas"] = body["spec"]?["replicas"] ?? 0
                return object
            }
            return body
        }
        return response(for: stored, path: path).withWarnings(decoded.warnings)
    }

    func patch(_ request: APIRequest, _ path: ResourcePath, name: String) throws(APIError) -> APIResponse {
        let contentType = request.contentType.split(separator: ";")[0].trimmingCharacters(in: .whitespaces)
        let directive = try Machinery.fieldValidation(request, options: "PatchOptions")
        let body = try request.decodedBody()
        if contentType == "application/apply-patch+yaml" {
            guard let manager = request.query["fieldManager"], !manager.isEmpty else {
                throw APIError.badRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
            }
            if store.get(path.type, namespace: namespaceOf(path), name: name) == nil, path.subresource == nil {
                let decoded = try Machinery.decodeBody(request, kind: path.type.kind, version: path.type.version, directive: directive)
                var object = decoded.object
                if path.type.namespaced { object["metadata"]?["namespace"] = .string(path.namespace ?? "") }
                let stored = try createObject(path.type, object)
                return APIResponse.full(status: 201, contentType: "application/json", body: stored.bytes).withWarnings(decoded.warnings)
            }
        }
        let jsonPatch = contentType == "application/json-patch+json"
        let patchErrors = try Machinery.patchDocumentErrors(request, jsonPatch: jsonPatch, directive: directive)
        let scale = path.subresource == "scale"
        let kind = scale ? "Scale" : path.type.kind
        // Warnings of the last attempt (an update may be retried on a conflict).
        var warnings: [String] = []
        let stored = try updateObject(path, name: name, dryRun: isDryRun(request)) { (current: StoredObject) throws(APIError) -> JSONValue in
            let base = scale ? self.scale(of: current.value, type: path.type) : current.value
            let decoded: WriteDecoding.Decoded
            switch contentType {
            case "application/json-patch+json", "application/merge-patch+json":
                let patched = jsonPatch ? try Machinery.jsonPatch(body, to: base) : Machinery.mergePatch(patch: body, into: base)
                decoded = try Machinery.decodeJSONPatched(patched, kind: kind, directive: directive, patchErrors: patchErrors)
            case "application/strategic-merge-patch+json", "application/apply-patch+yaml":
                let patched = try Machinery.strategicMerge(patch: body, into: base, type: path.type)
                decoded = try Machinery.decodeStrategicPatched(patched, patch: body, kind: kind, directive: directive, patchErrors: patchErrors)
            default: throw APIError.unsupportedMediaType(contentType)
            }
            warnings = decoded.warnings
            let patched = decoded.object
            if let rv = patched["metadata"]?["resourceVersion"]?.stringValue, !rv.isEmpty, rv != String(current.resourceVersion) {
                throw APIError.conflict(path.type, name)
            }
            if scale {
                try Machinery.validateScale(patched, name: name)
                var object = current.value
                object["spec"]?["replicas"] = patched["spec"]?["replicas"] ?? 0
                return object
            }
            return patched
        }
        return response(for: stored, path: path).withWarnings(warnings)
    }

    func response(for stored: StoredObject, path: ResourcePath) -> APIResponse {
        if path.subresource == "scale" { return .json(scale(of: stored.value, type: path.type)) }
        return .full(status: 200, contentType: "application/json", body: stored.bytes)
    }

    /// Applies a client's change: the main resource keeps the stored status, the status
    /// subresource changes only status, and validation and defaults run on the result.
    func updateObject(
        _ path: ResourcePath, name: String, dryRun: Bool = false,
        _ change: (StoredObject) throws(APIError) -> JSONValue
    ) throws(APIError) -> StoredObject {
        let type = path.type
        let hasStatus = type.subresource("status") != nil
        func work(_ current: StoredObject) throws(APIError) -> JSONValue {
            var object = try change(current)
            guard object.objectValue != nil else { throw APIError.badRequest("the object must be a JSON object") }
            if path.subresource == "status" {
                var kept = current.value
                kept["status"] = object["status"]
                try Machinery.validateStatus(type, kept, old: current.value)
                return kept
            }
            if hasStatus { object["status"] = current.value["status"] }
            if object["metadata"] == nil { object["metadata"] = [:] }
            object["metadata"]?["name"] = .string(name)
            object["metadata"]?["namespace"] = type.namespaced ? .string(path.namespace ?? "") : JSONValue?.none
            Machinery.applyDefaults(type, to: &object)
            if type.kind == "Service" {
                // The cluster IP is immutable once allocated.
                let ip = current.value["spec"]?["clusterIP"] ?? .null
                let requested = object["spec"]?["clusterIP"]?.stringValue ?? ""
                if !requested.isEmpty, .string(requested) != ip {
                    throw self.invalid(type, object, [.init(reason: "FieldValueInvalid", field: "spec.clusterIPs[0]", message: "Invalid value: []string{\"\(requested)\"}: may not change once set")])
                }
                object["spec"]?["clusterIP"] = ip
                object["spec"]?["clusterIPs"] = current.value["spec"]?["clusterIPs"]
                for field in ["ipFamilies", "ipFamilyPolicy", "internalTrafficPolicy"] where object["spec"]?[field] == nil {
                    object["spec"]?[field] = current.value["spec"]?[field]
                }
            }
            try Machinery.validate(type, object, old: current.value)
            return object
        }
        if dryRun {
            let current = try current(path, name: name)
            return StoredObject(value: try work(current), resourceVersion: current.resourceVersion)
        }
        return try store.update(type, namespace: namespaceOf(path), name: name, work)
    }

    /// The autoscaling/v1 Scale view of a workload.
    func scale(of object: JSONValue, type: ResourceType) -> JSONValue {
        let labels = object["spec"]?["selector"]?["matchLabels"]?.objectValue ?? [:]
        let selector = labels.keys.sorted().map { "\($0)=\(labels[$0]?.stringValue ?? "")" }.joined(separator: ",")
        let meta = object["metadata"] ?? [:]
        return [
            "kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": [
                "name": meta["name"] ?? "", "namespace": meta["namespace"] ?? "", "uid": meta["uid"] ?? "",
                "resourceVersion": meta["resourceVersion"] ?? "", "creationTimestamp": meta["creationTimestamp"] ?? .null,
            ],
            "spec": ["replicas": object["spec"]?["replicas"] ?? 0],
            "status": ["replicas": object["status"]?["replicas"] ?? 0, "selector": .string(selector)],
        ]
    }

    func evict(_ path: ResourcePath, name: String) throws(APIError) -> APIResponse {
        _ = try current(path, name: name)
        try deleteObject(path.type, namespace: namespaceOf(path), name: name, propagation: "Background")
        return .json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success"], status: 201)
    }
}
