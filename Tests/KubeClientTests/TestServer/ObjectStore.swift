import Foundation
import KubeClient

/// The test server's objects: per collection, by name, with a global resourceVersion counter.
/// Just enough semantics for the client's tests (conflicts, selectors, paging, patches).
struct ObjectStore {
    struct Failure: Error {
        let code: Int
        let reason: String
        let message: String
        var causes: [StatusCause] = []
    }

    private(set) var objects: [String: [String: JSONValue]] = [:]
    private(set) var resourceVersion = 100

    mutating func nextVersion() -> String {
        resourceVersion += 1
        return String(resourceVersion)
    }

    func get(_ collection: String, _ name: String, kindName: String) throws -> JSONValue {
        guard let object = objects[collection]?[name] else {
            throw Failure(code: 404, reason: "NotFound", message: "\(kindName) \"\(name)\" not found")
        }
        return object
    }

    func list(_ collection: String, labelSelector: String?, fieldSelector: String?) -> [JSONValue] {
        let all = (objects[collection] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
        return all.filter { object in
            Self.matches(labels: object["metadata"]?["labels"]?.objectValue ?? [:], selector: labelSelector)
                && Self.matches(name: object["metadata"]?["name"]?.stringValue ?? "", selector: fieldSelector)
        }
    }

    mutating func create(_ collection: String, _ object: JSONValue, namespace: String?, kindName: String) throws -> JSONValue {
        var object = object
        guard let name = object["metadata"]?["name"]?.stringValue, !name.isEmpty else {
            throw Failure(code: 422, reason: "Invalid", message: "\(kindName) \"\" is invalid: metadata.name: Required value",
                          causes: [StatusCause(reason: "FieldValueRequired", message: "Required value", field: "metadata.name")])
        }
        if name == "invalid" {
            throw Failure(code: 422, reason: "Invalid", message: "\(kindName) \"invalid\" is invalid: data.key: Invalid value: \"x\": must be y",
                          causes: [StatusCause(reason: "FieldValueInvalid", message: "Invalid value: \"x\": must be y", field: "data.key")])
        }
        if objects[collection]?[name] != nil {
            throw Failure(code: 409, reason: "AlreadyExists", message: "\(kindName) \"\(name)\" already exists")
        }
        var metadata = object["metadata"]?.objectValue ?? [:]
        metadata["resourceVersion"] = .string(nextVersion())
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        if let namespace { metadata["namespace"] = .string(namespace) }
        object["metadata"] = .object(metadata)
        objects[collection, default: [:]][name] = object
        return object
    }

    mutating func update(_ collection: String, _ name: String, _ object: JSONValue, kindName: String) throws -> JSONValue {
        let stored = try get(collection, name, kindName: kindName)
        var object = object
        if let sent = object["metadata"]?["resourceVersion"]?.stringValue, !sent.isEmpty,
           sent != stored["metadata"]?["resourceVersion"]?.stringValue {
            throw Failure(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(kindName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again")
        }
        var metadata = object["metadata"]?.objectValue ?? [:]
        metadata["resourceVersion"] = .string(nextVersion())
        metadata["uid"] = stored["metadata"]?["uid"]
        metadata["namespace"] = stored["metadata"]?["namespace"]
        object["metadata"] = .object(metadata)
        objects[collection]![name] = object
        return object
    }

    mutating func delete(_ collection: String, _ name: String, kindName: String) throws -> JSONValue {
        let stored = try get(collection, name, kindName: kindName)
        objects[collection]![name] = nil
        return stored
    }

    /// RFC 7386 merge patch (also stands in for strategic merge and apply here).
    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let patchFields) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchFields {
            if value.isNull { result[key] = nil } else { result[key] = mergePatch(result[key] ?? .null, value) }
        }
        return .object(result)
    }

    /// RFC 6902 add/replace/remove on object paths.
    static func jsonPatch(_ target: JSONValue, _ operations: JSONValue) throws -> JSONValue {
        var result = target
        for operation in operations.arrayValue ?? [] {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw Failure(code: 422, reason: "Invalid", message: "the JSON patch has an operation without op or path")
            }
            let keys = path.split(separator: "/").map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
            result = set(result, keys[...], op == "remove" ? nil : operation["value"])
        }
        return result
    }

    private static func set(_ value: JSONValue, _ keys: ArraySlice<String>, _ newValue: JSONValue?) -> JSONValue {
        guard let key = keys.first else { return newValue ?? .null }
        var fields = value.objectValue ?? [:]
        if keys.count == 1 { fields[key] = newValue } else { fields[key] = set(fields[key] ?? .object([:]), keys.dropFirst(), newValue) }
        return .object(fields)
    }

    private static func matches(labels: [String: JSONValue], selector: String?) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        for term in selector.split(separator: ",") {
            if let range = term.range(of: "!=") {
                if labels[String(term[..<range.lowerBound])]?.stringValue == String(term[range.upperBound...]) { return false }
            } else if let range = term.range(of: "=") {
                let value = term[range.upperBound...].drop(while: { $0 == "=" })
                if labels[String(term[..<range.lowerBound])]?.stringValue != String(value) { return false }
            } else if labels[String(term)] == nil {
                return false
            }
        }
        return true
    }

    private static func matches(name: String, selector: String?) -> Bool {
        guard let selector, !selector.isEmpty else { return true }
        for term in selector.split(separator: ",") where term.hasPrefix("metadata.name=") {
            if String(term.dropFirst("metadata.name=".count)) != name { return false }
        }
        return true
    }
}
