import Foundation
import KubeClient

/// Decodes Kubernetes' protobuf encoding (`k8s\0` + runtime.Unknown wrapping the object) into
/// the same JSON tree a JSON body would give, guided by `ProtobufSchema`. Fields the schema does
/// not know are skipped; empty strings, lists and maps are dropped like Go's `omitempty`.
enum ProtobufBody {
    struct Field {
        let name: String
        let repeated: Bool
        let type: Substring
    }

    struct DecodeError: Error, CustomStringConvertible {
        let description: String
    }

    static let messages: [String: [Int: Field]] = {
        var result: [String: [Int: Field]] = [:]
        for line in ProtobufSchema.text.split(separator: "\n") {
            let parts = line.split(separator: "|")
            guard let name = parts.first else { continue }
            var fields: [Int: Field] = [:]
            for spec in parts.dropFirst() {
                let bits = spec.split(separator: " ")
                guard bits.count == 3, let number = Int(bits[0]) else { continue }
                let repeated = bits[2].hasPrefix("*")
                fields[number] = Field(name: String(bits[1]), repeated: repeated, type: repeated ? bits[2].dropFirst() : bits[2])
            }
            result[String(name)] = fields
        }
        return result
    }()

    static let meaningfulZero: Set<String> = [
        "replicas", "revisionHistoryLimit", "progressDeadlineSeconds", "terminationGracePeriodSeconds",
        "automountServiceAccountToken", "immutable", "enableServiceLinks", "partition", "optional",
        "allowPrivilegeEscalation", "privileged", "runAsNonRoot", "readOnlyRootFilesystem", "runAsUser",
        "runAsGroup", "fsGroup", "activeDeadlineSeconds", "allocateLoadBalancerNodePorts", "defaultMode",
        "hostUsers", "setHostnameAsFQDN", "shareProcessNamespace", "deletionGracePeriodSeconds", "maxUnavailable",
        "maxSurge", "timeoutSeconds", "minReadySeconds",
    ]

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
        guard messages[kind] != nil else {
            throw DecodeError(description: "the sandbox cannot read \(kind) objects in protobuf; send JSON")
        }
        var object = try message(raw, kind)
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return object
    }

    static func message(_ bytes: ArraySlice<UInt8>, _ name: String) throws -> JSONValue {
        let fields = messages[name] ?? [:]
        var reader = Reader(bytes: bytes)
        var result: [String: JSONValue] = [:]
        while let (number, wire) = try reader.tag() {
            guard let field = fields[number] else {
                try reader.skip(wire)
                continue
            }
            if field.type.hasPrefix("M") {
                var entry = Reader(bytes: try reader.lengthDelimited())
                var key = "", value: JSONValue = .null
                while let (n, w) = try entry.tag() {
                    if n == 1 { key = try entry.string() } else if n == 2 { value = try scalar(&entry, w, field.type.dropFirst()) } else { try entry.skip(w) }
                }
                var map = result[field.name]?.objectValue ?? [:]
                map[key] = value
                result[field.name] = .object(map)
            } else if field.repeated {
                var list = result[field.name]?.arrayValue ?? []
                if wire == 2, field.type == "i" {
                    var packed = Reader(bytes: try reader.lengthDelimited())
                    while !packed.atEnd { list.append(.number(Double(Int64(bitPattern: try packed.varint())))) }
                } else {
                    list.append(try scalar(&reader, wire, field.type))
                }
                result[field.name] = .array(list)
            } else {
                result[field.name] = try scalar(&reader, wire, field.type)
            }
        }
        // omitempty: Go writes every non-pointer field, set or not. Zero and false are kept
        // only for the pointer fields where they mean something.
        for (key, value) in result {
            switch value {
            case .number(0) where !meaningfulZero.contains(key): result[key] = nil
            case .bool(false) where !meaningfulZero.contains(key): result[key] = nil
            case .string(let s) where s.isEmpty: result[key] = nil
            case .object(let o) where o.isEmpty: result[key] = nil
            case .array(let a) where a.isEmpty: result[key] = nil
            case .null: result[key] = nil
            default: break
            }
        }
        return .object(result)
    }

    static func scalar(_ reader: inout Reader, _ wire: Int, _ type: Substring) throws -> JSONValue {
        switch type {
        case "s": return .string(try reader.string())
        case "b": return .string(Data(try reader.lengthDelimited()).base64EncodedString())
        case "B": return .bool(try reader.varint() != 0)
        case "i": return .number(Double(Int64(bitPattern: try reader.varint())))
        case "d":
            let bits = try reader.fixed64()
            return .number(Double(bitPattern: bits))
        default: break
        }
        let body = try reader.lengthDelimited()
        var inner = Reader(bytes: body)
        switch type {
        case "Q":
            var text = ""
            while let (n, w) = try inner.tag() { if n == 1 { text = try inner.string() } else { try inner.skip(w) } }
            return .string(text)
        case "T":
            var seconds: Int64 = 0
            while let (n, w) = try inner.tag() { if n == 1 { seconds = Int64(bitPattern: try inner.varint()) } else { try inner.skip(w) } }
            return seconds == 0 ? .null : .string(Timestamp.format(Date(timeIntervalSince1970: TimeInterval(seconds))))
        case "I":
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
        case "R":
            var raw: ArraySlice<UInt8> = []
            while let (n, w) = try inner.tag() { if n == 1 { raw = try inner.lengthDelimited() } else { try inner.skip(w) } }
            return raw.isEmpty ? .null : try JSONBytes.decode(Array(raw))
        case "D":
            var nanos: Int64 = 0
            while let (n, w) = try inner.tag() { if n == 1 { nanos = Int64(bitPattern: try inner.varint()) } else { try inner.skip(w) } }
            return .string("\(Double(nanos) / 1e9)s")
        default:
            return try message(body, String(type.dropFirst()))
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
