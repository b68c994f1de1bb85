import Foundation
import KubeClient
import SandboxAPIMachinery

/// Decodes Kubernetes' protobuf encoding (`k8s\0` + runtime.Unknown wrapping the object) into
/// the same JSON tree a JSON body would give, guided by the kinds' `TypeSchema` (the one the JSON
/// decoder uses): fields the schema does not know are skipped, an embedded struct's fields are
/// inlined, and a value Go would leave out of its JSON (`omitempty` and empty, unless a pointer)
/// is left out.
enum ProtobufBody {
    struct DecodeError: Error, CustomStringConvertible {
        let description: String
    }

    static let schema = TypeSchema.kubernetes
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        guard bytes.count >= 4, Array(bytes[0..<4]) == magic else {
            throw DecodeError(description: "the protobuf body does not start with the Kubernetes magic number")
        }
        var reader = Reader(bytes: bytes[4...])
        var apiVersion = "", kind = ""
        var raw: ArraySlice<UInt8> = []
        while let (number, wire) = try reader.tag() {
            switch (number, wire) {
            case (1, 2):
                var meta = Reader(bytes: try reader.lengthDelimited())
                while let (n, w) = try meta.tag() {
                    if w == 2, n == 1 { apiVersion = try meta.string() } else if w == 2, n == 2 { kind = try meta.string() } else { try meta.skip(w) }
                }
            case (2, 2): raw = try reader.lengthDelimited()
            default: try reader.skip(wire)
            }
        }
        guard let message = schema.message(kind) else {
            throw DecodeError(description: "the sandbox cannot read \(kind) objects in protobuf; send JSON")
        }
        var object: [String: JSONValue] = [:]
        try fields(raw, message, into: &object)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return .object(object)
    }

    static func fields(_ bytes: ArraySlice<UInt8>, _ message: TypeSchema.Message, into result: inout [String: JSONValue]) throws {
        var reader = Reader(bytes: bytes)
        var inlined: [(TypeSchema.Message, ArraySlice<UInt8>)] = []
        while let (number, wire) = try reader.tag() {
            guard let field = message.byNumber[number] else {
                try reader.skip(wire)
                continue
            }
            if field.inline, case .message(let name) = field.type, let inner = schema.message(name) {
                inlined.append((inner, try reader.lengthDelimited()))
            } else if case .map(let valueType) = field.type {
                var entry = Reader(bytes: try reader.lengthDelimited())
                var key = "", value: JSONValue = .null
                while let (n, w) = try entry.tag() {
                    if n == 1 { key = try entry.string() } else if n == 2 { value = try scalar(&entry, w, valueType) } else { try entry.skip(w) }
                }
                var map = result[field.name]?.objectValue ?? [:]
                map[key] = value
                result[field.name] = .object(map)
            } else if field.repeated {
                var list = result[field.name]?.arrayValue ?? []
                if wire == 2, field.type == .int32 || field.type == .int64 {
                    var packed = Reader(bytes: try reader.lengthDelimited())
                    while !packed.atEnd { list.append(integer(try packed.varint(), field.type)) }
                } else {
                    list.append(try scalar(&reader, wire, field.type))
                }
                result[field.name] = .array(list)
            } else {
                result[field.name] = try scalar(&reader, wire, field.type)
            }
        }
        // Go writes every non-pointer field, set or not; its JSON leaves out the empty ones.
        for field in message.fields where !field.inline {
            guard let value = result[field.name] else { continue }
            if value == .null || (!field.pointer && field.omitEmpty && TypedDecoder.isEmpty(value, field)) { result[field.name] = nil }
        }
        for (inner, body) in inlined { try fields(body, inner, into: &result) }
    }

    static func integer(_ raw: UInt64, _ type: TypeSchema.ValueType) -> JSONValue {
        let value = Int64(bitPattern: raw)
        return .number(Double(type == .int32 ? Int64(Int32(truncatingIfNeeded: value)) : value))
    }

    static func scalar(_ reader: inout Reader, _ wire: Int, _ type: TypeSchema.ValueType) throws -> JSONValue {
        switch type {
        case .string: return .string(try reader.string())
        case .bytes: return .string(Data(try reader.lengthDelimited()).base64EncodedString())
        case .bool: return .bool(try reader.varint() != 0)
        case .int32, .int64: return integer(try reader.varint(), type)
        case .float64: return .number(Double(bitPattern: try reader.fixed64()))
        default: break
        }
        let body = try reader.lengthDelimited()
        var inner = Reader(bytes: body)
        switch type {
        case .quantity:
            var text = ""
            while let (n, w) = try inner.tag() { if n == 1 { text = try inner.string() } else { try inner.skip(w) } }
            return .string(text)
        case .time, .microTime:
            var seconds: Int64 = 0, nanos: Int64 = 0
            while let (n, w) = try inner.tag() {
                switch n {
                case 1: seconds = Int64(bitPattern: try inner.varint())
                case 2: nanos = Int64(bitPattern: try inner.varint())
                default: try inner.skip(w)
                }
            }
            if seconds == 0 && nanos == 0 { return .null }
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            return .string(type == .microTime ? Timestamp.formatMicro(date, nanos: nanos) : Timestamp.format(date))
        case .intOrString:
            var kind: UInt64 = 0, int: Int64 = 0, text = ""
            while let (n, w) = try inner.tag() {
                switch n {
                case 1: kind = try inner.varint()
                case 2: int = Int64(bitPattern: try inner.varint())
                case 3: text = try inner.string()
                default: try inner.skip(w)
                }
            }
            return kind == 1 ? .string(text) : .number(Double(int))
        case .raw:
            var raw: ArraySlice<UInt8> = []
            while let (n, w) = try inner.tag() { if n == 1 { raw = try inner.lengthDelimited() } else { try inner.skip(w) } }
            return raw.isEmpty ? .null : try JSONBytes.decode(Array(raw))
        case .duration:
            var nanos: Int64 = 0
            while let (n, w) = try inner.tag() { if n == 1 { nanos = Int64(bitPattern: try inner.varint()) } else { try inner.skip(w) } }
            return .string("\(Double(nanos) / 1e9)s")
        case .message(let name):
            guard let message = schema.message(name) else { return [:] }
            var object: [String: JSONValue] = [:]
            try fields(body, message, into: &object)
            return .object(object)
        default:
            return .null
        }
    }

    struct Reader {
        var bytes: ArraySlice<UInt8>
        var atEnd: Bool { bytes.isEmpty }

        mutating func varint() throws -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
                if shift > 63 { break }
            }
            throw DecodeError(description: "truncated protobuf varint")
        }

        mutating func tag() throws -> (Int, Int)? {
            if bytes.isEmpty { return nil }
            let key = try varint()
            return (Int(key >> 3), Int(key & 7))
        }

        mutating func lengthDelimited() throws -> ArraySlice<UInt8> {
            let length = Int(try varint())
            guard length <= bytes.count else { throw DecodeError(description: "truncated protobuf field") }
            let value = bytes.prefix(length)
            bytes = bytes.dropFirst(length)
            return value
        }

        mutating func string() throws -> String { String(decoding: try lengthDelimited(), as: UTF8.self) }

        mutating func fixed64() throws -> UInt64 {
            guard bytes.count >= 8 else { throw DecodeError(description: "truncated protobuf fixed64") }
            var value: UInt64 = 0
            for (i, b) in bytes.prefix(8).enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
            bytes = bytes.dropFirst(8)
            return value
        }

        mutating func skip(_ wire: Int) throws {
            switch wire {
            case 0: _ = try varint()
            case 1: _ = try fixed64()
            case 2: _ = try lengthDelimited()
            case 5:
                guard bytes.count >= 4 else { throw DecodeError(description: "truncated protobuf fixed32") }
                bytes = bytes.dropFirst(4)
            default: throw DecodeError(description: "unsupported protobuf wire type \(wire)")
            }
        }
    }
}
