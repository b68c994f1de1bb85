import Foundation

/// An RFC 6901 JSON Pointer such as `/metadata/labels/app.kubernetes.io~1name`: the path to one
/// value in a JSON document. `~` is written `~0` and `/` is written `~1` inside a token.
public struct JSONPointer: Sendable, Hashable {
    /// The unescaped reference tokens; empty for the whole document.
    public var tokens: [String]

    /// The whole document (`""`).
    public static let root = JSONPointer(tokens: [])

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses the escaped text form.
    public init(_ text: String) throws(JSONPointerError) {
        guard !text.isEmpty else {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { throw JSONPointerError(text: text) }
        var parsed: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var index = raw.startIndex
            while index < raw.endIndex {
                let character = raw[index]
                if character == "~" {
                    let next = raw.index(after: index)
                    guard next < raw.endIndex else { throw JSONPointerError(text: text) }
                    switch raw[next] {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: throw JSONPointerError(text: text)
                    }
                    index = raw.index(after: next)
                } else {
                    token.append(character)
                    index = raw.index(after: index)
                }
            }
            parsed.append(token)
        }
        tokens = parsed
    }

    /// The pointer to a member or element of the value this points to.
    public func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [token])
    }

    /// The pointer to an element of the array this points to.
    public func appending(_ index: Int) -> JSONPointer {
        appending(String(index))
    }

    /// Whether `other` points inside the value this points to (and is not the same pointer).
    public func isProperPrefix(of other: JSONPointer) -> Bool {
        other.tokens.count > tokens.count && Array(other.tokens.prefix(tokens.count)) == tokens
    }

    /// The value this points to in `document`, or `nil` when there is none.
    public func value(in document: JSONValue) -> JSONValue? {
        var current = document
        for token in tokens {
            switch current {
            case .object(let fields):
                guard let child = fields[token] else { return nil }
                current = child
            case .array(let items):
                guard let index = JSONPointer.arrayIndex(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// The index an array token names: decimal digits without a leading zero (RFC 6901 §4).
    static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            token == "0" || !token.hasPrefix("0")
        else { return nil }
        return Int(token)
    }
}

extension JSONPointer: CustomStringConvertible {
    /// The escaped text form, e.g. `/metadata/annotations/a~1b`.
    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }
}

extension JSONPointer: ExpressibleByStringLiteral {
    /// A pointer written in the source; an invalid one is a programming error.
    public init(stringLiteral text: String) {
        do {
            try self.init(text)
        } catch {
            preconditionFailure(error.description)
        }
    }
}

extension JSONPointer: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            try self.init(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Text that is not a JSON Pointer.
public struct JSONPointerError: Error, Hashable, CustomStringConvertible {
    public var text: String

    public var description: String {
        "\"\(text)\" is not a JSON pointer; write it as \"\" or \"/a/b\", with \"~\" as \"~0\" and \"/\" as \"~1\" inside a name."
    }
}
