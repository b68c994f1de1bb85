import KubeClient

/// A small strategic merge patch: merge keys by field name, `$patch`, `$setElementOrder`,
/// `$retainKeys`, `$deleteFromPrimitiveList`, null deletes. Replaced by APIMachinery's.
enum FallbackStrategicMerge {
    static let mergeKeys: [String: [String]] = [
        "containers": ["name"], "initContainers": ["name"], "ephemeralContainers": ["name"],
        "env": ["name"], "volumes": ["name"], "imagePullSecrets": ["name"], "volumeMounts": ["mountPath"],
        "volumeDevices": ["devicePath"], "hostAliases": ["ip"], "conditions": ["type"],
        "ownerReferences": ["uid"], "ports": ["containerPort", "port"],
    ]
    static let primitiveSets: Set<String> = ["finalizers"]

    static func apply(patch: JSONValue, to object: JSONValue) throws(APIError) -> JSONValue {
        guard case .object = patch else { throw .badRequest("strategic merge patch must be a JSON object") }
        return mergeMap(patch: patch, into: object)
    }

    static func mergeMap(patch: JSONValue, into target: JSONValue) -> JSONValue {
        guard var fields = patch.objectValue else { return patch }
        if fields["$patch"]?.stringValue == "replace" {
            fields["$patch"] = nil
            return stripDirectives(.object(fields))
        }
        if fields["$patch"]?.stringValue == "delete" { return .null }
        var result = target.objectValue ?? [:]
        if let retain = fields["$retainKeys"]?.arrayValue?.compactMap(\.stringValue) {
            for key in result.keys where !retain.contains(key) { result[key] = nil }
        }
        var orders: [String: [JSONValue]] = [:]
        for (key, value) in fields {
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
            } else if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let drop = value.arrayValue ?? []
                if let list = result[field]?.arrayValue { result[field] = .array(list.filter { !drop.contains($0) }) }
            }
        }
        for (key, value) in fields where !key.hasPrefix("$") {
            if value.isNull { result[key] = nil; continue }
            switch value {
            case .object:
                let merged = mergeMap(patch: value, into: result[key] ?? .null)
                result[key] = merged.isNull ? nil : merged
            case .array(let items):
                result[key] = mergeList(field: key, patch: items, into: result[key]?.arrayValue ?? [])
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            guard let list = result[field]?.arrayValue else { continue }
            result[field] = .array(reorder(list, order: order, field: field))
        }
        return .object(result)
    }

    static func mergeKey(_ field: String, _ items: [JSONValue]) -> String? {
        guard let candidates = mergeKeys[field] else { return nil }
        for key in candidates where items.contains(where: { $0[key] != nil }) { return key }
        return candidates.first
    }

    static func mergeList(field: String, patch: [JSONValue], into current: [JSONValue]) -> JSONValue {
        if primitiveSets.contains(field) {
            var result = current
            for item in patch where !result.contains(item) { result.append(item) }
            return .array(result)
        }
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patch.filter { $0["$patch"] == nil }.map(stripDirectives))
        }
        guard patch.allSatisfy({ $0.objectValue != nil }), let key = mergeKey(field, patch + current) else {
            return .array(patch.map(stripDirectives))
        }
        var result = current
        for item in patch {
            let id = item[key]
            let index = result.firstIndex { $0[key] == id }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index {
                result[index] = mergeMap(patch: item, into: result[index])
            } else {
                result.append(stripDirectives(item))
            }
        }
        return .array(result)
    }

    /// Orders a merged list as `$setElementOrder` says; items it does not name keep their place at the end.
    static func reorder(_ list: [JSONValue], order: [JSONValue], field: String) -> [JSONValue] {
        guard let key = mergeKey(field, list) ?? (order.first?.objectValue == nil ? nil : order.first?.objectValue?.keys.first) else {
            // Primitive list: order by value.
            let ordered = order.filter { list.contains($0) }
            return ordered + list.filter { !order.contains($0) }
        }
        var remaining = list
        var result: [JSONValue] = []
        for entry in order {
            if let i = remaining.firstIndex(where: { $0[key] == entry[key] }) { result.append(remaining.remove(at: i)) }
        }
        return result + remaining
    }

    static func stripDirectives(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for (k, v) in fields where !k.hasPrefix("$") { out[k] = stripDirectives(v) }
            return .object(out)
        case .array(let items): return .array(items.map(stripDirectives))
        default: return value
        }
    }
}
