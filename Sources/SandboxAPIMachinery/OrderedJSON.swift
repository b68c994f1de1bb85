import KubeClient

/// A JSON document as it was written: object members in order and with their duplicates,
/// numbers as their literal text. The real API server decodes a body in one pass over its bytes,
/// so the first type error it reports, a duplicate field and `1.0` given for an int32 are all
/// matters of the text, which `JSONValue` forgets.
public indirect enum OrderedJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([OrderedJSON])
    case object([Member])

    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: OrderedJSON
        public init(key: String, value: OrderedJSON) {
            self.key = key
            self.value = value
        }
    }

    /// What Go's decoder calls this kind of value in "cannot unmarshal X into ...".
    public var goKind: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// A tree without order or duplicates, in sorted key order (the order Go's unstructured
    /// maps have no better answer to).
    public init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n): self = .number(OrderedJSON.literal(n))
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(OrderedJSON.init))
        case .object(let fields):
            self = .object(fields.keys.sorted().map { Member(key: $0, value: OrderedJSON(fields[$0]!)) })
        }
    }

    /// The number as JSON text: integers without a fraction, like the encoders that wrote it.
    static func literal(_ n: Double) -> String {
        if let i = Int64(exactly: n) { return String(i) }
        return n.isFinite ? "\(n)" : "0"
    }

    /// The value as a `JSONValue` (the last of duplicate members wins, as in Go's maps).
    public var jsonValue: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let text): return .number(Double(text) ?? 0)
        case .string(let s): return .string(s)
        case .array(let items): return .array(items.map(\.jsonValue))
        case .object(let members):
            var fields: [String: JSONValue] = [:]
            for member in members { fields[member.key] = member.value.jsonValue }
            return .object(fields)
        }
    }
}

/// A JSON syntax error with Go's `encoding/json` wording (`invalid character 'x' looking for
/// beginning of value`, `unexpected end of JSON input`), which the real server puts in its 400.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// The byte offset where the error was found.
    public let offset: Int
    public var description: String { message }
}

extension OrderedJSON {
    /// Parses one JSON value (surrounded by optional whitespace) from `bytes`.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> OrderedJSON {
        var parser = OrderedJSONParser(bytes: bytes)
        return try parser.document()
    }
}

/// A recursive-descent JSON parser with Go's error messages. Deeply nested input is refused with
/// Go's message before it can exhaust a thread's stack; Go allows 10000 levels, this parser 1000
/// (a Kubernetes object nests a few dozen).
struct OrderedJSONParser {
    let bytes: [UInt8]
    var offset = 0
    var depth = 0
    static let maxDepth = 1000

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(JSONSyntaxError) -> OrderedJSON {
        skipSpace()
        let value = try value(context: "looking for beginning of value")
        skipSpace()
        if offset < bytes.count { throw error("after top-level value") }
        return value
    }

    func error(_ context: String) -> JSONSyntaxError {
        guard offset < bytes.count else { return JSONSyntaxError(message: "unexpected end of JSON input", offset: offset) }
        return JSONSyntaxError(message: "invalid character \(Self.quoteChar(bytes[offset])) \(context)", offset: offset)
    }

    /// Go's `quoteChar`: `'x'`, `'\''`, `'"'`, `'\n'`, `'\x01'`.
    static func quoteChar(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): return #"'\''"#
        case UInt8(ascii: "\""): return #"'"'"#
        case 0x0A: return #"'\n'"#
        case 0x0D: return #"'\r'"#
        case 0x09: return #"'\t'"#
        case 0x5C: return #"'\\'"#
        default:
            if byte < 0x20 || byte == 0x7F {
                let hex = Array("0123456789abcdef")
                return "'\\x\(hex[Int(byte >> 4)])\(hex[Int(byte & 15)])'"
            }
            if byte >= 0x80 { return "'\\u\(String(byte, radix: 16).leftPadded(4))'" }
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
    }

    mutating func skipSpace() {
        while offset < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[offset]) { offset += 1 }
    }

    mutating func value(context: String) throws(JSONSyntaxError) -> OrderedJSON {
        guard offset < bytes.count else { throw error(context) }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error(context)
        }
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maxDepth {
            throw JSONSyntaxError(message: "exceeded max depth", offset: offset)
        }
    }

    mutating func object() throws(JSONSyntaxError) -> OrderedJSON {
        try enter()
        defer { depth -= 1 }
        offset += 1
        var members: [OrderedJSON.Member] = []
        skipSpace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
                throw error("looking for beginning of object key string")
            }
            let key = try string()
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw error("after object key") }
            offset += 1
            skipSpace()
            let value = try value(context: "looking for beginning of value")
            members.append(.init(key: key, value: value))
            skipSpace()
            guard offset < bytes.count else { throw error("") }
            switch bytes[offset] {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return .object(members)
            default: throw error("after object key:value pair")
            }
        }
    }

    mutating func array() throws(JSONSyntaxError) -> OrderedJSON {
        try enter()
        defer { depth -= 1 }
        offset += 1
        var items: [OrderedJSON] = []
        skipSpace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value(context: "looking for beginning of value"))
            skipSpace()
            guard offset < bytes.count else { throw error("") }
            switch bytes[offset] {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                return .array(items)
            default: throw error("after array element")
            }
        }
    }

    mutating func literal(_ word: String) throws(JSONSyntaxError) {
        for (i, expected) in word.utf8.enumerated() {
            guard offset < bytes.count else { throw error("") }
            if bytes[offset] != expected {
                throw error("in literal \(word) (expecting \(Self.quoteChar(Array(word.utf8)[i])))")
            }
            offset += 1
        }
    }

    mutating func number() throws(JSONSyntaxError) -> String {
        let start = offset
        func digit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        if bytes[offset] == UInt8(ascii: "-") {
            offset += 1
            guard offset < bytes.count else { throw error("") }
            guard digit(bytes[offset]) else { throw error("in numeric literal") }
        }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
        } else {
            while offset < bytes.count, digit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard offset < bytes.count else { throw error("") }
            guard digit(bytes[offset]) else { throw error("after decimal point in numeric literal") }
            while offset < bytes.count, digit(bytes[offset]) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard offset < bytes.count else { throw error("") }
            guard digit(bytes[offset]) else { throw error("in exponent of numeric literal") }
            while offset < bytes.count, digit(bytes[offset]) { offset += 1 }
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    /// A string literal; invalid UTF-8 and lone surrogates become U+FFFD, as in Go.
    mutating func string() throws(JSONSyntaxError) -> String {
        offset += 1
        var out: [UInt8] = []
        while true {
            guard offset < bytes.count else { throw error("") }
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                offset += 1
                guard offset < bytes.count else { throw error("") }
                let escape = bytes[offset]
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    offset += 1
                    var unit = try hex4()
                    if (0xD800..<0xDC00).contains(unit), offset + 1 < bytes.count,
                       bytes[offset + 1] == UInt8(ascii: "\\"), offset + 2 < bytes.count, bytes[offset + 2] == UInt8(ascii: "u") {
                        let save = offset
                        offset += 3
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            offset = save
                            unit = 0xFFFD
                        }
                    } else if (0xD800..<0xE000).contains(unit) {
                        unit = 0xFFFD
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(unit) ?? "\u{FFFD}")).utf8))
                default:
                    throw error("in string escape code")
                }
                offset += 1
            default:
                if byte < 0x20 { throw error("in string literal") }
                out.append(byte)
                offset += 1
            }
        }
    }

    /// Four hex digits at `offset`; leaves `offset` on the last one.
    mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 {
            guard offset < bytes.count else { throw error("") }
            let b = bytes[offset]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("in \\u hexadecimal character escape")
            }
            value = value * 16 + digit
            if i < 3 { offset += 1 }
        }
        return value
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
