/// An RFC 6902 JSON Patch: a list of operations applied in order, all or nothing. It is the body
/// of a `PATCH` with `Content-Type: application/json-patch+json` and of a mutating webhook's
/// response. The wire form is the JSON array, e.g. `[{"op":"add","path":"/a","value":1}]`.
public struct JSONPatch: Sendable, Hashable {
    public var operations: [Operation]

    public init(_ operations: [Operation] = []) {
        self.operations = operations
    }

    /// One step of a patch.
    public enum Operation: Sendable, Hashable {
        /// Sets an object member (adding or replacing it) or inserts into an array; `-` appends.
        case add(path: JSONPointer, value: JSONValue)
        /// Removes a value that must exist.
        case remove(path: JSONPointer)
        /// Replaces a value that must exist.
        case replace(path: JSONPointer, value: JSONValue)
        /// Removes the value at `from` and adds it at `path`.
        case move(from: JSONPointer, path: JSONPointer)
        /// Adds a copy of the value at `from` at `path`.
        case copy(from: JSONPointer, path: JSONPointer)
        /// Fails the whole patch unless the value at `path` equals `value`, e.g. to guard on
        /// `/metadata/resourceVersion`.
        case test(path: JSONPointer, value: JSONValue)

        /// The `op` member on the wire.
        public var name: String {
            switch self {
            case .add: "add"
            case .remove: "remove"
            case .replace: "replace"
            case .move: "move"
            case .copy: "copy"
            case .test: "test"
            }
        }

        /// The `path` member on the wire.
        public var path: JSONPointer {
            switch self {
            case .add(let path, _), .remove(let path), .replace(let path, _), .move(_, let path),
                .copy(_, let path), .test(let path, _):
                path
            }
        }
    }

    /// The document after all operations. Pure: `document` is not changed, and when an
    /// operation fails nothing of the patch applies.
    public func apply(to document: JSONValue) throws(JSONPatchError) -> JSONValue {
        var result = document
        for (index, operation) in operations.enumerated() {
            do {
                try JSONPatch.perform(operation, on: &result)
            } catch {
                throw JSONPatchError(operationIndex: index, op: operation.name, reason: error)
            }
        }
        return result
    }

    private static func perform(_ operation: Operation, on document: inout JSONValue) throws(JSONPatchError.Reason) {
        switch operation {
        case .add(let path, let value):
            try add(value, at: path, in: &document)
        case .remove(let path):
            _ = try remove(at: path, in: &document)
        case .replace(let path, let value):
            try replace(at: path, with: value, in: &document)
        case .move(let from, let path):
            if from == path {
                guard from.value(in: document) != nil else { throw .missingPath(from) }
                return
            }
            guard !from.isProperPrefix(of: path) else { throw .moveIntoItself(from: from, path: path) }
            let value = try remove(at: from, in: &document)
            try add(value, at: path, in: &document)
        case .copy(let from, let path):
            guard let value = from.value(in: document) else { throw .missingPath(from) }
            try add(value, at: path, in: &document)
        case .test(let path, let expected):
            guard let actual = path.value(in: document) else { throw .missingPath(path) }
            guard actual == expected else { throw .testFailed(path: path, expected: expected, actual: actual) }
        }
    }

    private static func add(_ value: JSONValue, at path: JSONPointer, in document: inout JSONValue)
        throws(JSONPatchError.Reason)
    {
        guard let last = path.tokens.last else {
            document = value
            return
        }
        try withParent(of: path, in: &document) { parent throws(JSONPatchError.Reason) in
            switch parent {
            case .object(var fields):
                fields[last] = value
                parent = .object(fields)
            case .array(var items):
                if last == "-" {
                    items.append(value)
                } else {
                    guard let index = JSONPointer.arrayIndex(last), index <= items.count else {
                        throw .invalidArrayIndex(path)
                    }
                    items.insert(value, at: index)
                }
                parent = .array(items)
            default:
                throw .notAContainer(path)
            }
        }
    }

    private static func remove(at path: JSONPointer, in document: inout JSONValue)
        throws(JSONPatchError.Reason) -> JSONValue
    {
        guard let last = path.tokens.last else { throw .cannotRemoveDocument }
        var removed = JSONValue.null
        try withParent(of: path, in: &document) { parent throws(JSONPatchError.Reason) in
            switch parent {
            case .object(var fields):
                guard let value = fields.removeValue(forKey: last) else { throw .missingPath(path) }
                removed = value
                parent = .object(fields)
            case .array(var items):
                guard let index = JSONPointer.arrayIndex(last), items.indices.contains(index) else {
                    throw .invalidArrayIndex(path)
                }
                removed = items.remove(at: index)
                parent = .array(items)
            default:
                throw .notAContainer(path)
            }
        }
        return removed
    }

    private static func replace(at path: JSONPointer, with value: JSONValue, in document: inout JSONValue)
        throws(JSONPatchError.Reason)
    {
        guard let last = path.tokens.last else {
            document = value
            return
        }
        try withParent(of: path, in: &document) { parent throws(JSONPatchError.Reason) in
            switch parent {
            case .object(var fields):
                guard fields[last] != nil else { throw .missingPath(path) }
                fields[last] = value
                parent = .object(fields)
            case .array(var items):
                guard let index = JSONPointer.arrayIndex(last), items.indices.contains(index) else {
                    throw .invalidArrayIndex(path)
                }
                items[index] = value
                parent = .array(items)
            default:
                throw .notAContainer(path)
            }
        }
    }

    /// Runs `body` on the value that holds the last token of `path`, writing the change back.
    private static func withParent(
        of path: JSONPointer, in document: inout JSONValue,
        _ body: (inout JSONValue) throws(JSONPatchError.Reason) -> Void
    ) throws(JSONPatchError.Reason) {
        func descend(_ value: inout JSONValue, _ tokens: ArraySlice<String>) throws(JSONPatchError.Reason) {
            guard let token = tokens.first else {
                try body(&value)
                return
            }
            switch value {
            case .object(var fields):
                guard var child = fields[token] else { throw .missingPath(path) }
                try descend(&child, tokens.dropFirst())
                fields[token] = child
                value = .object(fields)
            case .array(var items):
                guard let index = JSONPointer.arrayIndex(token), items.indices.contains(index) else {
                    throw .missingPath(path)
                }
                try descend(&items[index], tokens.dropFirst())
                value = .array(items)
            default:
                throw .missingPath(path)
            }
        }
        try descend(&document, path.tokens.dropLast()[...])
    }
}

extension JSONPatch: ExpressibleByArrayLiteral {
    public init(arrayLiteral operations: Operation...) {
        self.init(operations)
    }
}

extension JSONPatch: Codable {
    public init(from decoder: any Decoder) throws {
        operations = try decoder.singleValueContainer().decode([Operation].self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(operations)
    }
}

extension JSONPatch.Operation: Codable {
    private enum CodingKeys: String, CodingKey {
        case op, path, from, value
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let op = try container.decode(String.self, forKey: .op)
        let path = try container.decode(JSONPointer.self, forKey: .path)
        switch op {
        case "add": self = .add(path: path, value: try Self.value(in: container))
        case "remove": self = .remove(path: path)
        case "replace": self = .replace(path: path, value: try Self.value(in: container))
        case "move": self = .move(from: try container.decode(JSONPointer.self, forKey: .from), path: path)
        case "copy": self = .copy(from: try container.decode(JSONPointer.self, forKey: .from), path: path)
        case "test": self = .test(path: path, value: try Self.value(in: container))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .op, in: container,
                debugDescription:
                    "\"\(op)\" is not a JSON Patch operation; use add, remove, replace, move, copy or test.")
        }
    }

    /// `"value": null` is a value (JSON null), unlike a missing `value`.
    private static func value(in container: KeyedDecodingContainer<CodingKeys>) throws -> JSONValue {
        guard container.contains(.value) else {
            throw DecodingError.keyNotFound(
                CodingKeys.value,
                .init(
                    codingPath: container.codingPath, debugDescription: "This JSON Patch operation needs a \"value\"."))
        }
        if try container.decodeNil(forKey: .value) { return .null }
        return try container.decode(JSONValue.self, forKey: .value)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .op)
        switch self {
        case .add(_, let value), .replace(_, let value), .test(_, let value):
            try container.encode(path, forKey: .path)
            try container.encode(value, forKey: .value)
        case .remove:
            try container.encode(path, forKey: .path)
        case .move(let from, _), .copy(let from, _):
            try container.encode(from, forKey: .from)
            try container.encode(path, forKey: .path)
        }
    }
}
