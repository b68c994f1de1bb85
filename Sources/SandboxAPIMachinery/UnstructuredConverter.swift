import KubeClient

/// Converts a JSON tree (the result of a strategic merge patch) into a kind's Go types as
/// apimachinery's `DefaultUnstructuredConverter.FromUnstructuredWithValidation` does: the real
/// server takes that path for strategic merge patches instead of decoding JSON, so its errors
/// read differently (`unrecognized type: int32`, `cannot restore slice from map`) and carry no
/// field path, and its unknown fields come sorted. Fields are visited in the structs' order.
public struct UnstructuredConverter {
    let schema: TypeSchema
    var unknownFields: [String] = []
    var path: [String] = []

    init(schema: TypeSchema) { self.schema = schema }

    /// The converted object and its unknown fields (`unknown field "spec.foo"`, sorted), or the
    /// conversion's error.
    public static func convert(_ value: JSONValue, as message: String, schema: TypeSchema = .kubernetes) throws(TypedDecoder.Failure) -> TypedDecoder.Result {
        guard let root = schema.message(message) else { return TypedDecoder.Result(object: value, strictErrors: []) }
        var converter = UnstructuredConverter(schema: schema)
        let object = try converter.structure(value, root, inlined: false)
        return TypedDecoder.Result(object: object ?? [:], strictErrors: converter.unknownFields.sorted())
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "invalid"
        case .bool: "bool"
        case .number(let n): Int64(exactly: n) != nil ? "int64" : "float64"
        case .string: "string"
        case .array: "slice"
        case .object: "map"
        }
    }

    mutating func pushKey(_ key: String) { path.append(path.isEmpty ? key : "." + key) }

    mutating func structure(_ value: JSONValue, _ message: TypeSchema.Message, inlined: Bool) throws(TypedDecoder.Failure) -> JSONValue? {
        guard case .object(let source) = value else {
            if value == .null { return nil }
            throw TypedDecoder.Failure(message: "cannot restore struct from: \(Self.kind(value))")
        }
        var out: [String: JSONValue] = [:]
        var matched: Set<String> = []
        try fields(source, message, into: &out, matched: &matched)
        if !inlined {
            for key in source.keys where !matched.contains(key) {
                let saved = path.count
                pushKey(key)
                unknownFields.append("unknown field \(GoQuote.quote(path.joined()))")
                path.removeLast(path.count - saved)
            }
        }
        return .object(out)
    }

    /// The fields of `message` (and of the structs it inlines) found in `source`.
    mutating func fields(_ source: [String: JSONValue], _ message: TypeSchema.Message, into out: inout [String: JSONValue],
                         matched: inout Set<String>) throws(TypedDecoder.Failure) {
        for field in message.fields {
            if field.inline, case .message(let inner) = field.type, let innerMessage = schema.message(inner) {
                try fields(source, innerMessage, into: &out, matched: &matched)
                continue
            }
            matched.insert(field.name)
            guard let raw = source[field.name], raw != .null else { continue }
            let saved = path.count
            pushKey(field.name)
            let converted = try self.field(raw, field)
            path.removeLast(path.count - saved)
            if let converted, field.pointer || !field.omitEmpty || !TypedDecoder.isEmpty(converted, field) {
                out[field.name] = converted
            }
        }
    }

    mutating func field(_ value: JSONValue, _ field: TypeSchema.Field) throws(TypedDecoder.Failure) -> JSONValue? {
        guard field.repeated else { return try convert(value, field.type, goType: field.goType) }
        guard case .array(let items) = value else {
            throw TypedDecoder.Failure(message: "cannot restore slice from \(Self.kind(value))")
        }
        var out: [JSONValue] = []
        let saved = path.count
        for (i, item) in items.enumerated() {
            path.append("[\(i)]")
            out.append(try convert(item, field.type, goType: field.elementGoType) ?? TypedDecoder.zero(field.type))
            path.removeLast(path.count - saved)
        }
        return .array(out)
    }

    mutating func convert(_ value: JSONValue, _ type: TypeSchema.ValueType, goType: String) throws(TypedDecoder.Failure) -> JSONValue? {
        if value == .null { return nil }
        let kind = Self.kind(value)
        switch type {
        case .message(let name):
            guard let message = schema.message(name) else { return value }
            return try structure(value, message, inlined: false)
        case .map(let valueType):
            guard case .object(let source) = value else { throw TypedDecoder.Failure(message: "cannot restore map from \(kind)") }
            var out: [String: JSONValue] = [:]
            let elementType = TypeSchema.goType(of: valueType, named: nil)
            for (key, item) in source {
                out[key] = try convert(item, valueType, goType: elementType) ?? TypedDecoder.zero(valueType)
            }
            return .object(out)
        case .string:
            switch kind {
            case "string": return value
            case "int64": throw TypedDecoder.Failure(message: "cannot convert int64 to \(goType)")
            default: throw TypedDecoder.Failure(message: "unrecognized type: string")
            }
        case .bool:
            if kind == "bool" { return value }
            throw TypedDecoder.Failure(message: "unrecognized type: bool")
        case .int32, .int64:
            switch kind {
            case "int64":
                // reflect's Convert truncates what does not fit, as the real server does.
                let n = Int64(exactly: value.doubleValue!)!
                return .number(Double(type == .int32 ? Int64(Int32(truncatingIfNeeded: n)) : n))
            case "float64": throw TypedDecoder.Failure(message: "cannot convert float64 to \(goType)")
            default: throw TypedDecoder.Failure(message: "unrecognized type: \(type == .int32 ? "int32" : "int64")")
            }
        case .float64:
            if kind == "int64" || kind == "float64" { return value }
            throw TypedDecoder.Failure(message: "unrecognized type: float64")
        case .bytes:
            guard case .string(let s) = value else { throw TypedDecoder.Failure(message: "cannot restore slice from \(kind)") }
            if case .failure(let error) = Base64Syntax.decode(s) {
                throw TypedDecoder.Failure(message: "error decoding from json: \(error)")
            }
            return value
        case .time, .microTime, .duration, .intOrString, .quantity, .raw:
            // Types with their own JSON unmarshalling take the value through JSON, without context.
            var decoder = TypedDecoder(schema: schema)
            let result = try decoder.value(OrderedJSON(value), type, goType: goType)
            if let saved = decoder.savedError { throw TypedDecoder.Failure(message: saved) }
            return result
        }
    }
}
