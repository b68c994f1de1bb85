import KubeClient

/// delete and deletecollection with finalizers, propagation policies and garbage collection of
/// dependents (objects whose ownerReferences name the deleted object's uid).
extension KubernetesAPI {
    func deleteOptions(_ request: APIRequest) -> (propagation: String?, preconditionUID: String?, preconditionRV: String?, gracePeriod: Int?) {
        var propagation = request.query["propagationPolicy"]
        var uid: String?
        var rv: String?
        var grace = request.query["gracePeriodSeconds"].flatMap { Int($0) }
        if !request.body.isEmpty, let options = try? JSONBytes.decode(request.body) {
            grace = options["gracePeriodSeconds"]?.intValue ?? grace
            propagation = options["propagationPolicy"]?.stringValue ?? propagation
            if options["orphanDependents"]?.boolValue == true { propagation = "Orphan" }
            uid = options["preconditions"]?["uid"]?.stringValue
            rv = options["preconditions"]?["resourceVersion"]?.stringValue
        }
        return (propagation, uid, rv, grace)
    }

    func delete(_ request: APIRequest, _ path: ResourcePath, name: String) throws(APIError) -> APIResponse {
        let options = deleteOptions(request)
        let object = try current(path, name: name)
        if let uid = options.preconditionUID, uid != object.uid {
            throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(path.type.qualifiedName) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.uid)")
        }
        if let rv = options.preconditionRV, rv != String(object.resourceVersion) {
            throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(path.type.qualifiedName) \"\(name)\": Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(object.resourceVersion)")
        }
        if isDryRun(request) { return .full(status: 200, contentType: "application/json", body: object.bytes) }
        let result = try deleteObject(path.type, namespace: namespaceOf(path), name: name, propagation: options.propagation,
                                      gracePeriod: options.gracePeriod)
        return .full(status: 200, contentType: "application/json", body: result.bytes)
    }

    func deleteCollection(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> APIResponse {
        let options = deleteOptions(request)
        let (items, rv) = try selected(request, path)
        for item in items {
            _ = try? deleteObject(path.type, namespace: item.namespace, name: item.name, propagation: options.propagation,
                                  gracePeriod: options.gracePeriod)
        }
        return .full(status: 200, contentType: "application/json",
                     body: listBytes(path.type, items: items.map(\.bytes), resourceVersion: rv, continueToken: nil, remaining: nil))
    }

    /// Deletes an object the way the API server and garbage collector together do. Returns the
    /// object as deleted, or as it stays while finalizers hold it.
    @discardableResult
    func deleteObject(
        _ type: ResourceType, namespace: String, name: String, propagation: String?, gracePeriod: Int? = nil
    ) throws(APIError) -> StoredObject {
        guard let object = store.get(type, namespace: namespace, name: name) else { throw APIError.notFound(type, name) }
        if type.kind == "Pod", node.terminatesPods, let marked = try markTerminating(object, gracePeriod: gracePeriod) {
            return marked
        }
        let finalizers = object.value["metadata"]?["finalizers"]?.arrayValue ?? []
        let hasDependents = store.hasDependents(uid: object.uid)
        let policy = propagation ?? "Background"

        if type.kind == "Namespace" {
            return try deleteNamespace(object)
        }
        if !finalizers.isEmpty || (policy == "Foreground" && hasDependents) {
            // Mark it; it goes once its finalizers are removed.
            let marked = try store.update(type, namespace: namespace, name: name) { current in
                var value = current.value
                if value["metadata"]?["deletionTimestamp"] == nil {
                    value["metadata"]?["deletionTimestamp"] = .string(Timestamp.now())
                    value["metadata"]?["deletionGracePeriodSeconds"] = 0
                }
                if policy == "Foreground", hasDependents {
                    var list = value["metadata"]?["finalizers"]?.arrayValue ?? []
                    if !list.contains("foregroundDeletion") { list.append("foregroundDeletion") }
                    value["metadata"]?["finalizers"] = .array(list)
                }
                return value
            }
            if policy == "Foreground", hasDependents {
                collectDependents(of: object, policy: "Foreground")
                return try removeFinalizer("foregroundDeletion", type, namespace: namespace, name: name) ?? marked
            }
            return marked
        }
        let deleted = try store.delete(type, namespace: namespace, name: name)
        if type.kind == "Service", let ip = object.value["spec"]?["clusterIP"]?.stringValue { serviceIPs.release(ip) }
        if hasDependents { collectDependents(of: object, policy: policy) }
        return deleted
    }

    @discardableResult
    func removeFinalizer(_ finalizer: String, _ type: ResourceType, namespace: String, name: String) throws(APIError) -> StoredObject? {
        guard store.get(type, namespace: namespace, name: name) != nil else { return nil }
        return try store.update(type, namespace: namespace, name: name) { current in
            var value = current.value
            let list = (value["metadata"]?["finalizers"]?.arrayValue ?? []).filter { $0 != .string(finalizer) }
            value["metadata"]?["finalizers"] = list.isEmpty ? JSONValue?.none : .array(list)
            return value
        }
    }

    /// Deletes (Background, Foreground) or orphans (Orphan) every object owned by `owner`.
    func collectDependents(of owner: StoredObject, policy: String) {
        let uid = owner.uid
        for type in ResourceCatalog.all where type.kind != "Namespace" {
            let scope: String? = type.namespaced ? (owner.namespace.isEmpty ? nil : owner.namespace) : nil
            for (_, dependent) in store.list(type, namespace: scope).items {
                let refs = dependent.value["metadata"]?["ownerReferences"]?.arrayValue ?? []
                guard refs.contains(where: { $0["uid"]?.stringValue == uid }) else { continue }
                if policy == "Orphan" {
                    _ = try? store.update(type, namespace: dependent.namespace, name: dependent.name) { current in
                        var value = current.value
                        let kept = refs.filter { $0["uid"]?.stringValue != uid }
                        value["metadata"]?["ownerReferences"] = kept.isEmpty ? JSONValue?.none : .array(kept)
                        return value
                    }
                } else if refs.count == 1 || policy == "Foreground" {
                    _ = try? deleteObject(type, namespace: dependent.namespace, name: dependent.name, propagation: policy)
                } else {
                    // Other owners remain: drop only this reference.
                    _ = try? store.update(type, namespace: dependent.namespace, name: dependent.name) { current in
                        var value = current.value
                        value["metadata"]?["ownerReferences"] = .array(refs.filter { $0["uid"]?.stringValue != uid })
                        return value
                    }
                }
            }
        }
    }

    /// A namespace goes Terminating, loses its contents, then disappears.
    func deleteNamespace(_ namespace: StoredObject) throws(APIError) -> StoredObject {
        let name = namespace.name
        let marked = try store.update(ResourceCatalog.namespaces, namespace: "", name: name) { current in
            var value = current.value
            value["metadata"]?["deletionTimestamp"] = .string(Timestamp.now())
            value["status"] = ["phase": "Terminating"]
            return value
        }
        for type in ResourceCatalog.all where type.namespaced {
            for (_, object) in store.list(type, namespace: name).items {
                // Finalizers of contents are the namespace controller's to wait for; the sandbox clears them.
                _ = try? store.update(type, namespace: name, name: object.name) { current in
                    var value = current.value
                    value["metadata"]?["finalizers"] = nil
                    return value
                }
                _ = try? deleteObject(type, namespace: name, name: object.name, propagation: "Background")
            }
        }
        _ = try? store.delete(ResourceCatalog.namespaces, namespace: "", name: name)
        return marked
    }

    /// Graceful pod deletion with a node that runs processes: the pod gets deletionTimestamp
    /// (now + grace) and deletionGracePeriodSeconds, the node stops its containers (SIGTERM,
    /// then SIGKILL after the grace period) and then removes it. Nil when the pod goes at once
    /// (grace 0, or never bound to the node).
    func markTerminating(_ pod: StoredObject, gracePeriod: Int?) throws(APIError) -> StoredObject? {
        let spec = pod.value["spec"]
        let grace = max(gracePeriod ?? spec?["terminationGracePeriodSeconds"]?.intValue ?? 30, 0)
        let bound = !(spec?["nodeName"]?.stringValue ?? "").isEmpty
        let current = pod.value["metadata"]?["deletionGracePeriodSeconds"]?.intValue
        guard bound, grace > 0 else {
            // A force delete of a pod in its grace period ends it now (the node sees it go).
            return nil
        }
        if let current, current <= grace { return pod }
        return try store.update(ResourceCatalog.pods, namespace: pod.namespace, name: pod.name) { stored in
            var value = stored.value
            if value["metadata"]?["deletionTimestamp"] == nil {
                value["metadata"]?["deletionTimestamp"] = .string(Timestamp.after(seconds: grace))
            }
            value["metadata"]?["deletionGracePeriodSeconds"] = .number(Double(grace))
            return value
        }
    }
}
