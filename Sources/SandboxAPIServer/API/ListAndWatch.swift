import Foundation
import KubeClient
import SandboxAPIMachinery

/// list (selectors, limit/continue, Table) and watch (from a resourceVersion, selectors,
/// bookmarks, timeoutSeconds, Table events), streamed as newline-delimited JSON.
extension KubernetesAPI {
    struct Selection {
        var labels: SandboxAPIMachinery.LabelSelector?
        var fields: FieldSelector?
        var resource: String
        var isEmpty: Bool { labels == nil && fields == nil }
        func matches(_ object: StoredObject) -> Bool {
            (labels?.matches(object.labels) ?? true) && (fields?.matches(object.value, resource: resource) ?? true)
        }
    }

    func selection(_ request: APIRequest, _ type: ResourceType) throws(APIError) -> Selection {
        Selection(
            labels: try Machinery.labelSelector(request.query["labelSelector"] ?? ""),
            fields: try Machinery.fieldSelector(request.query["fieldSelector"] ?? "", type: type),
            resource: type.plural)
    }

    func listNamespace(_ path: ResourcePath) -> String? { path.type.namespaced ? path.namespace : nil }

    /// Every object the request's selectors match, unpaged.
    func selected(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> ([StoredObject], Int) {
        let selection = try selection(request, path.type)
        let snapshot = store.list(path.type, namespace: listNamespace(path))
        return (snapshot.items.map(\.object).filter(selection.matches), snapshot.resourceVersion)
    }

    struct ContinueToken: Codable {
        var rv: Int
        var start: String
    }

    func list(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> APIResponse {
        let selection = try selection(request, path.type)
        let limit = max(0, Int(request.query["limit"] ?? "") ?? 0)
        var startAfter: String?
        var listRV: Int?
        if let token = request.query["continue"], !token.isEmpty {
            guard let data = Data(base64Encoded: token), let decoded = try? JSONDecoder().decode(ContinueToken.self, from: data) else {
                throw APIError.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
            }
            if decoded.rv < store.oldestWatchableResourceVersion {
                throw APIError.expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.")
            }
            startAfter = decoded.start
            listRV = decoded.rv
        }
        let snapshot = store.list(path.type, namespace: listNamespace(path))
        var page: [StoredObject] = []
        var lastKey = ""
        var remaining = 0
        for (key, object) in snapshot.items {
            if let startAfter, key <= startAfter { continue }
            guard selection.matches(object) else { continue }
            if limit > 0 && page.count >= limit {
                remaining += 1
            } else {
                page.append(object)
                lastKey = key
            }
        }
        let rv = listRV ?? snapshot.resourceVersion
        var token: String?
        if remaining > 0 {
            token = try? JSONEncoder().encode(ContinueToken(rv: rv, start: lastKey)).base64EncodedString()
        }
        if wantsTable(request) {
            var table = Machinery.table(path.type, objects: page.map(\.value), resourceVersion: String(rv), includeHeaders: true)
            if let token { table["metadata"]?["continue"] = .string(token) }
            if remaining > 0 { table["metadata"]?["remainingItemCount"] = .number(Double(remaining)) }
            return .json(table)
        }
        return .full(
            status: 200, contentType: "application/json",
            body: listBytes(path.type, items: page.map(\.bytes), resourceVersion: rv, continueToken: token,
                            remaining: remaining > 0 ? remaining : nil))
    }

    /// A `…List` object assembled from cached item bytes (no re-serialization).
    func listBytes(_ type: ResourceType, items: [[UInt8]], resourceVersion: Int, continueToken: String?, remaining: Int?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(items.reduce(128) { $0 + $1.count + 1 })
        out.append(contentsOf: "{\"apiVersion\":\"\(type.apiVersion)\",\"items\":[".utf8)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        var meta: JSONValue = ["resourceVersion": .string(String(resourceVersion))]
        if let continueToken { meta["continue"] = .string(continueToken) }
        if let remaining { meta["remainingItemCount"] = .number(Double(remaining)) }
        out.append(contentsOf: "],\"kind\":\"\(type.listKind)\",\"metadata\":".utf8)
        JSONBytes.write(meta, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    func watch(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> APIResponse {
        let type = path.type
        let selection = try selection(request, type)
        let rvText = request.query["resourceVersion"] ?? ""
        let timeout = Int(request.query["timeoutSeconds"] ?? "").flatMap { $0 > 0 ? $0 : nil }
        let bookmarks = try request.flag("allowWatchBookmarks")
        let sendInitial = try request.flag("sendInitialEvents")
        let table = wantsTable(request)
        let namespace = listNamespace(path)

        var initial: [StoredObject] = []
        let subscription: ObjectStore.Subscription
        let startRV: Int
        if rvText.isEmpty || rvText == "0" || sendInitial {
            let snapshot = store.list(type, namespace: namespace)
            initial = snapshot.items.map(\.object).filter(selection.matches)
            startRV = snapshot.resourceVersion
            subscription = try store.subscribe(type, namespace: namespace, after: startRV)
        } else {
            guard let rv = Int(rvText) else {
                throw APIError.badRequest("invalid resource version \"\(rvText)\"")
            }
            do {
                subscription = try store.subscribe(type, namespace: namespace, after: rv)
            } catch {
                // The real server answers 200 and one ERROR event; clients relist.
                let line = Self.eventLine("ERROR", JSONBytes.encode(error.status))
                return .stream(contentType: "application/json") { write in try? await write(line) }
            }
            startRV = rv
        }

        let initialObjects = initial
        return .stream(contentType: "application/json") { write in
            defer { subscription.cancel() }
            var headersSent = false
            var lastRV = startRV
            func encode(_ kind: String, _ object: StoredObject) -> [UInt8] {
                if table {
                    let t = Machinery.table(type, objects: [object.value], resourceVersion: String(object.resourceVersion), includeHeaders: !headersSent)
                    headersSent = true
                    return Self.eventLine(kind, JSONBytes.encode(t))
                }
                return Self.eventLine(kind, object.bytes)
            }
            func translate(_ event: StoreEvent) -> [UInt8]? {
                if selection.isEmpty { return encode(event.kind.rawValue, event.object) }
                let now = event.kind != .deleted && selection.matches(event.object)
                let was = event.previous.map(selection.matches) ?? false
                switch (was, now) {
                case (false, true): return encode("ADDED", event.object)
                case (true, true): return encode("MODIFIED", event.object)
                case (true, false): return encode("DELETED", event.object)
                case (false, false):
                    return event.kind == .deleted && selection.matches(event.object) ? encode("DELETED", event.object) : nil
                }
            }
            func bookmark(_ rv: Int, initialEnd: Bool) -> [UInt8] {
                var meta: JSONValue = ["resourceVersion": .string(String(rv))]
                if initialEnd { meta["annotations"] = ["k8s.io/initial-events-end": "true"] }
                return Self.eventLine("BOOKMARK", JSONBytes.encode(["kind": .string(type.kind), "apiVersion": .string(type.apiVersion), "metadata": meta]))
            }
            do {
                for object in initialObjects { try await write(encode("ADDED", object)) }
                if sendInitial && bookmarks { try await write(bookmark(startRV, initialEnd: true)) }
                for event in subscription.backlog {
                    lastRV = event.resourceVersion
                    if let line = translate(event) { try await write(line) }
                }
            } catch {
                return
            }

            enum Item: Sendable { case event(StoreEvent), bookmark }
            let (merged, feed) = AsyncStream<Item>.makeStream()
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in subscription.events { feed.yield(.event(event)) }
                    feed.finish()
                }
                if bookmarks {
                    group.addTask {
                        while (try? await Task.sleep(for: .seconds(10))) != nil { feed.yield(.bookmark) }
                    }
                }
                if let timeout {
                    group.addTask {
                        if (try? await Task.sleep(for: .seconds(timeout))) != nil { feed.finish() }
                    }
                }
                for await item in merged {
                    let line: [UInt8]?
                    switch item {
                    case .event(let event):
                        lastRV = event.resourceVersion
                        line = translate(event)
                    case .bookmark:
                        line = bookmark(lastRV, initialEnd: false)
                    }
                    guard let line else { continue }
                    do { try await write(line) } catch { break }
                }
                group.cancelAll()
            }
        }
    }

    static func eventLine(_ type: String, _ object: [UInt8]) -> [UInt8] {
        var line = Array("{\"type\":\"\(type)\",\"object\":".utf8)
        line.reserveCapacity(object.count + 40)
        line.append(contentsOf: object)
        line.append(contentsOf: "}\n".utf8)
        return line
    }
}
