import KubeClient

/// Decodes a JSON body into a kind's Go types as the real API server does (sigs.k8s.io/json, a
/// case-sensitive `encoding/json`): values of the wrong type are the first type error in
/// document order (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas
/// of type int32`), fields the Go structs lack are dropped and reported as strict errors
/// (`unknown field "spec.foo"`), as are repeated keys (`duplicate field "metadata.name"`), and the
/// result is what the stored object would encode to: no unknown fields, no nulls, no empty
/// `omitempty` values. Quantity, Time, IntOrString and base64 bytes are checked with their own
/// parsers' messages, which, as in Go, end the decoding at once.
public struct TypedDecoder {
    /// The decoded object and the strict errors the caller reports or refuses by its
    /// `fieldValidation` directive.
    public struct Result: Sendable {
        public var object: JSONValue
        public var strictErrors: [String]
    }

    /// Why a body cannot be decoded: the Go error text (without the server's prefix).
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    let schema: TypeSchema
    var savedError: String?
    var strictErrors: [String] = []
    var seenStrict: Set<String> = []
    /// Go's error context: the innermost struct with a known field, and the path to the value.
    var structName: String?
    var fieldStack: [String] = []
    /// The path strict errors name (`spec.containers[0]`).
    var strictPath: [String] = []

    init(schema: TypeSchema) { self.schema = schema }

    /// Decodes `document` as the Go struct `message` (a kind: `Deployment`, `Pod`).
    public static func decode(_ document: OrderedJSON, as message: String, schema: TypeSchema = .kubernetes) throws(Failure) -> Result {
        var decoder = TypedDecoder(schema: schema)
        guard let root = schema.message(message) else { return Result(object: document.jsonValue, strictErrors: []) }
        let object = try decoder.message(document, root, goType: "v1." + message)
        if let saved = decoder.savedError { throw Failure(message: saved) }
        return Result(object: object ?? [:], strictErrors: decoder.strictErrors)
    }

    public static func decode(_ value: JSONValue, as message: String, schema: TypeSchema = .kubernetes) throws(Failure) -> Result {
        try decode(OrderedJSON(value), as: message, schema: schema)
    }

    // MARK: Errors

    /// `json: cannot unmarshal X into Go struct field S.path of type T`, with the context now.
    func typeError(_ value: String, _ type: String) -> String {
        if structName != nil || !fieldStack.isEmpty {
            return "json: cannot unmarshal \(value) into Go struct field \(structName ?? "").\(fieldStack.joined(separator: ".")) of type \(type)"
        }
        return "json: cannot unmarshal \(value) into Go value of type \(type)"
    }

    /// Go keeps the first such error and decodes on.
    mutating func save(_ message: String) {
        if savedError == nil { savedError = message }
    }

    mutating func strict(_ kind: String, _ key: String) {
        guard strictErrors.count < 100 else { return }
        let path = strictPath.isEmpty ? key : strictPath.joined() + "." + key
        let message = "\(kind) \(GoQuote.quote(path))"
        if seenStrict.insert(message).inserted { strictErrors.append(message) }
    }

    mutating func pushKey(_ key: String) { strictPath.append(strictPath.isEmpty ? key : "." + key) }

    // MARK: Values

    mutating func message(_ node: OrderedJSON, _ message: TypeSchema.Message, goType: String) throws(Failure) -> JSONValue? {
        guard case .object(let members) = node else {
            if node != .null { save(typeError(node.goKind, goType)) }
            return nil
        }
        var out: [String: JSONValue] = [:]
        var seen: Set<Int> = []
        let (savedStruct, savedStack, savedPath) = (structName, fieldStack.count, strictPath.count)
        for member in members {
            guard let key = message.keys[member.key] else {
                strict("unknown field", member.key)
                continue
            }
            let duplicate = !seen.insert(key.index).inserted
            if duplicate { strict("duplicate field", key.field.name) }
            fieldStack.append(contentsOf: key.embeddedVia)
            fieldStack.append(key.field.name)
            structName = message.name
            pushKey(key.field.name)
            let value = try field(member.value, key.field)
            structName = savedStruct
            fieldStack.removeLast(fieldStack.count - savedStack)
            strictPath.removeLast(strictPath.count - savedPath)
            store(value, for: key.field, in: &out, merging: duplicate)
        }
        return .object(out)
    }

    /// Puts a decoded field in its object as Go would encode it: a null or an empty `omitempty`
    /// value is left out; a repeated struct or map is decoded into the first (merged).
    func store(_ value: JSONValue?, for field: TypeSchema.Field, in out: inout [String: JSONValue], merging: Bool) {
        guard let value else {
            // null: a pointer, list or map becomes nil; anything else keeps its value.
            if field.pointer || field.repeated || isMap(field.type) { out[field.name] = nil }
            return
        }
        if merging, case .object(let old)? = out[field.name], case .object(let new) = value, !field.repeated {
            out[field.name] = .object(old.merging(new) { _, latest in latest })
            return
        }
        if !field.pointer && field.omitEmpty && Self.isEmpty(value, field) {
            out[field.name] = nil
            return
        }
        out[field.name] = value
    }

    func isMap(_ type: TypeSchema.ValueType) -> Bool {
        if case .map = type { return true }
        return false
    }

    /// Go's `omitempty`: false, 0, "", and empty lists and maps. Structs (including Time,
    /// Quantity and IntOrString) are never empty to it.
    public static func isEmpty(_ value: JSONValue, _ field: TypeSchema.Field) -> Bool {
        if field.repeated || field.type == .bytes { return value.arrayValue?.isEmpty ?? (value.stringValue?.isEmpty ?? false) }
        switch field.type {
        case .string: return value.stringValue == ""
        case .bool: return value.boolValue == false
        case .int32, .int64, .float64: return value.doubleValue == 0
        case .map: return value.objectValue?.isEmpty ?? false
        default: return false
        }
    }

    mutating func field(_ node: OrderedJSON, _ field: TypeSchema.Field) throws(Failure) -> JSONValue? {
        guard field.repeated else { return try value(node, field.type, goType: field.goType) }
        switch node {
        case .null: return nil
        case .array(let items):
            var out: [JSONValue] = []
            let savedPath = strictPath.count
            for (i, item) in items.enumerated() {
                strictPath.append("[\(i)]")
                // A null element is the element's zero value.
                out.append(try value(item, field.type, goType: field.elementGoType) ?? Self.zero(field.type))
                strictPath.removeLast(strictPath.count - savedPath)
            }
            return .array(out)
        default:
            save(typeError(node.goKind, field.goType))
            return nil
        }
    }

    static func zero(_ type: TypeSchema.ValueType) -> JSONValue {
        switch type {
        case .string: ""
        case .bool: false
        case .int32, .int64, .float64, .intOrString: 0
        case .quantity: "0"
        case .message, .map: [:]
        default: .null
        }
    }

    mutating func value(_ node: OrderedJSON, _ type: TypeSchema.ValueType, goType: String) throws(Failure) -> JSONValue? {
        switch type {
        case .message(let name):
            guard let message = schema.message(name) else { return node.jsonValue }
            return try self.message(node, message, goType: goType)
        case .map(let valueType):
            return try map(node, valueType, goType: goType)
        case .string:
            if case .string(let s) = node { return .string(s) }
        case .bool:
            if case .bool(let b) = node { return .bool(b) }
        case .int32, .int64:
            if case .number(let literal) = node {
                guard let n = Self.goInt(literal, bits: type == .int32 ? 32 : 64) else {
                    save(typeError("number " + literal, goType))
                    return nil
                }
                return .number(Double(n))
            }
        case .float64:
            if case .number(let literal) = node {
                guard let n = Double(literal), n.isFinite else {
                    save(typeError("number " + literal, goType))
                    return nil
                }
                return .number(n)
            }
        case .bytes:
            return bytes(node, goType: goType)
        case .time, .microTime, .duration:
            return try time(node, type)
        case .intOrString:
            switch node {
            case .null: return nil
            case .string(let s): return .string(s)
            case .number(let literal):
                guard let n = Self.goInt(literal, bits: 32) else { throw Failure(message: typeError("number " + literal, "int32")) }
                return .number(Double(n))
            default: throw Failure(message: typeError(node.goKind, "int32"))
            }
        case .quantity:
            let text: String
            switch node {
            case .null: return nil
            case .string(let s): text = s.trimmingSpaces
            case .number(let literal): text = literal
            case .bool(let b): text = b ? "true" : "false"
            case .array, .object: text = "{"
            }
            if let error = QuantitySyntax.error(text) { throw Failure(message: error) }
            return .string(text)
        case .raw:
            return node == .null ? nil : node.jsonValue
        }
        if node != .null { save(typeError(node.goKind, goType)) }
        return nil
    }

    mutating func map(_ node: OrderedJSON, _ valueType: TypeSchema.ValueType, goType: String) throws(Failure) -> JSONValue? {
        guard case .object(let members) = node else {
            if node != .null { save(typeError(node.goKind, goType)) }
            return nil
        }
        var out: [String: JSONValue] = [:]
        let elementType = TypeSchema.goType(of: valueType, named: nil)
        let savedPath = strictPath.count
        for member in members {
            if out[member.key] != nil { strict("duplicate field", member.key) }
            pushKey(member.key)
            out[member.key] = try value(member.value, valueType, goType: elementType) ?? Self.zero(valueType)
            strictPath.removeLast(strictPath.count - savedPath)
        }
        return .object(out)
    }

    /// `[]byte`: a base64 string (or, as Go also takes, an array of numbers).
    mutating func bytes(_ node: OrderedJSON, goType: String) -> JSONValue? {
        switch node {
        case .null: return nil
        case .string(let s):
            if case .failure(let error) = Base64Syntax.decode(s) {
                save(error.description)
                return nil
            }
            return .string(s)
        case .array(let items):
            var bytes: [UInt8] = []
            for item in items {
                guard case .number(let literal) = item, let n = Self.goInt(literal, bits: 64), (0...255).contains(n) else {
                    if case .number(let literal) = item { save(typeError("number " + literal, "uint8")) } else if item != .null {
                        save(typeError(item.goKind, "uint8"))
                    }
                    return nil
                }
                bytes.append(UInt8(n))
            }
            return .string(Base64Syntax.encode(bytes))
        default:
            save(typeError(node.goKind, goType))
            return nil
        }
    }

    /// `metav1.Time`'s UnmarshalJSON: a JSON string holding an RFC 3339 time; its errors end the
    /// decoding (they come from an Unmarshaler).
    mutating func time(_ node: OrderedJSON, _ type: TypeSchema.ValueType) throws(Failure) -> JSONValue? {
        switch node {
        case .null: return nil
        case .string(let s):
            if type != .duration, let error = RFC3339Syntax.error(s) { throw Failure(message: error) }
            return .string(s)
        default:
            throw Failure(message: typeError(node.goKind, "string"))
        }
    }

    /// Go's `strconv.ParseInt(literal, 10, bits)`: digits with an optional minus, nothing else.
    static func goInt(_ literal: String, bits: Int) -> Int64? {
        guard let n = Int64(literal), !literal.hasPrefix("+") else { return nil }
        if bits == 32, n < Int64(Int32.min) || n > Int64(Int32.max) { return nil }
        return n
    }
}

extension String {
    /// Go's strings.TrimSpace for ASCII whitespace.
    var trimmingSpaces: String {
        let bytes = Array(utf8)
        let isSpace: (UInt8) -> Bool = { [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C].contains($0) }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(decoding: bytes[start...end], as: UTF8.self)
    }
}
