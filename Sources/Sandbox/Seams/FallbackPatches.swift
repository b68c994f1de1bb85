import KubeClient

/// RFC 7386 merge patch and RFC 6902 JSON patch, minimal, until KubeClient's own are merged.
enum FallbackPatches {
    static func merge(patch: JSONValue, into target: JSONValue) -> JSONValue {
        guard case .object(let fields) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in fields {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = merge(patch: value, into: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    static func jsonPatch(_ operations: JSONValue, to document: JSONValue) throws(APIError) -> JSONValue {
        guard let ops = operations.arrayValue else { throw .badRequest("json patch must be an array of operations") }
        var doc = document
        for op in ops {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw .badRequest("json patch operation needs \"op\" and \"path\"")
            }
            let pointer = try parsePointer(path)
            switch name {
            case "add": doc = try set(doc, pointer[...], value: op["value"] ?? .null, insert: true)
            case "replace":
                _ = try get(doc, pointer[...])
                doc = try set(doc, pointer[...], value: op["value"] ?? .null, insert: false)
            case "remove": doc = try remove(doc, pointer[...])
            case "test":
                guard try get(doc, pointer[...]) == (op["value"] ?? .null) else {
                    throw .init(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: testing value \(path) failed")
                }
            case "move", "copy":
                guard let from = op["from"]?.stringValue else { throw .badRequest("\(name) needs \"from\"") }
                let fromPointer = try parsePointer(from)
                let value = try get(doc, fromPointer[...])
                if name == "move" { doc = try remove(doc, fromPointer[...]) }
                doc = try set(doc, pointer[...], value: value, insert: true)
            default: throw .badRequest("unexpected json patch operation \"\(name)\"")
            }
        }
        return doc
    }

    static func parsePointer(_ path: String) throws(APIError) -> [String] {
        if path.isEmpty { return [] }
        guard path.hasPrefix("/") else { throw .badRequest("json patch path \"\(path)\" must start with /") }
        return path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func missing(_ token: String) -> APIError {
        .init(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: doc is missing path: \(token)")
    }

    static func get(_ doc: JSONValue, _ path: ArraySlice<String>) throws(APIError) -> JSONValue {
        guard let head = path.first else { return doc }
        switch doc {
        case .object(let o):
            guard let v = o[head] else { throw missing(head) }
            return try get(v, path.dropFirst())
        case .array(let a):
            guard let i = Int(head), a.indices.contains(i) else { throw missing(head) }
            return try get(a[i], path.dropFirst())
        default: throw missing(head)
        }
    }

    static func set(_ doc: JSONValue, _ path: ArraySlice<String>, value: JSONValue, insert: Bool) throws(APIError) -> JSONValue {
        guard let head = path.first else { return value }
        let rest = path.dropFirst()
        switch doc {
        case .object(var o):
            if rest.isEmpty {
                o[head] = value
            } else {
                guard let child = o[head] else { throw missing(head) }
                o[head] = try set(child, rest, value: value, insert: insert)
            }
            return .object(o)
        case .array(var a):
            if rest.isEmpty {
                if head == "-" { a.append(value); return .array(a) }
                guard let i = Int(head), i >= 0, i <= a.count else { throw missing(head) }
                if insert { a.insert(value, at: i) } else if i < a.count { a[i] = value } else { throw missing(head) }
                return .array(a)
            }
            guard let i = Int(head), a.indices.contains(i) else { throw missing(head) }
            a[i] = try set(a[i], rest, value: value, insert: insert)
            return .array(a)
        default: throw missing(head)
        }
    }

    static func remove(_ doc: JSONValue, _ path: ArraySlice<String>) throws(APIError) -> JSONValue {
        guard let head = path.first else { return .null }
        let rest = path.dropFirst()
        switch doc {
        case .object(var o):
            guard let child = o[head] else { throw missing(head) }
            if rest.isEmpty {
                o.removeValue(forKey: head)
            } else {
                o[head] = try remove(child, rest)
            }
            return .object(o)
        case .array(var a):
            guard let i = Int(head), a.indices.contains(i) else { throw missing(head) }
            if rest.isEmpty { a.remove(at: i) } else { a[i] = try remove(a[i], rest) }
            return .array(a)
        default: throw missing(head)
        }
    }
}
