import TestSupport
import Foundation
import KubeClient
import Testing

/// Decodes a JSON sample written in a test.
func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(json.utf8))
}

func encodeToString<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// What a decode/encode round trip through a model did to a sample.
struct RoundTrip<T> {
    var value: T
    /// Pointers into the sample, each prefixed `-` (dropped: unknown or `null` in the sample),
    /// `+` (added by the model) or `~` (changed), sorted.
    var differences: [String]
}

/// Decodes `json` as `T`, encodes it again, checks that decoding the result gives an equal
/// value, and lists how the re-encoded JSON differs from the sample.
func roundTrip<T: Codable & Equatable>(
    _ type: T.Type, _ json: String, sourceLocation: SourceLocation = #_sourceLocation
) throws -> RoundTrip<T> {
    let value = try decode(T.self, json)
    let data = try JSONEncoder().encode(value)
    let again = try JSONDecoder().decode(T.self, from: data)
    #expect(again == value, "decode(encode(x)) differs from x", sourceLocation: sourceLocation)
    let original = try JSONValue(data: Data(json.utf8))
    let reencoded = try JSONValue(data: data)
    var differences: [String] = []
    collectDifferences(original, reencoded, at: .root, into: &differences)
    return RoundTrip(value: value, differences: differences.sorted())
}

private func collectDifferences(_ old: JSONValue, _ new: JSONValue, at path: JSONPointer, into out: inout [String]) {
    switch (old, new) {
    case (.object(let a), .object(let b)):
        for (key, value) in a {
            if let other = b[key] {
                collectDifferences(value, other, at: path.appending(key), into: &out)
            } else {
                out.append("-\(path.appending(key))")
            }
        }
        for key in b.keys where a[key] == nil {
            out.append("+\(path.appending(key))")
        }
    case (.array(let a), .array(let b)) where a.count == b.count:
        for index in a.indices {
            collectDifferences(a[index], b[index], at: path.appending(index), into: &out)
        }
    default:
        if old != new { out.append("~\(path)") }
    }
}


/// Random JSON documents for property tests. Keys come from a small set (so two trees share
/// members often) that includes the characters JSON Pointer must escape.
struct RandomJSON {
    static let keys = ["a", "b", "c", "name", "x/y", "m~n", "~1", "", "0"]
    static let strings = ["", "web", "api", "~0/~1", "ü"]

    var generator: SeededGenerator
    var allowNull: Bool = true

    init(seed: UInt64, allowNull: Bool = true) {
        generator = SeededGenerator(seed: seed)
        self.allowNull = allowNull
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &generator) }
    mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }

    mutating func scalar() -> JSONValue {
        switch int(allowNull ? 0...4 : 1...4) {
        case 0: .null
        case 1: .bool(chance(50))
        case 2: .number(Double(int(-3...3)))
        case 3: .number(Double(int(-20...20)) / 4)
        default: .string(Self.strings[int(0...Self.strings.count - 1)])
        }
    }

    mutating func value(depth: Int = 3) -> JSONValue {
        guard depth > 0, chance(60) else { return scalar() }
        if chance(50) { return object(depth: depth) }
        return .array((0..<int(0...3)).map { _ in value(depth: depth - 1) })
    }

    mutating func object(depth: Int = 3) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        for _ in 0..<int(0...4) {
            fields[Self.keys[int(0...Self.keys.count - 1)]] = value(depth: depth - 1)
        }
        return .object(fields)
    }

    /// A copy of `value` with a few random edits, so diffs are small as well as large.
    mutating func mutate(_ value: JSONValue, depth: Int = 3) -> JSONValue {
        switch value {
        case .object(var fields):
            for key in Array(fields.keys).sorted() {
                if chance(15) {
                    fields[key] = nil
                } else if chance(50) {
                    fields[key] = mutate(fields[key]!, depth: depth - 1)
                }
            }
            if chance(30) { fields[Self.keys[int(0...Self.keys.count - 1)]] = self.value(depth: depth - 1) }
            return .object(fields)
        case .array(var items):
            for index in items.indices where chance(40) {
                items[index] = mutate(items[index], depth: depth - 1)
            }
            if chance(25) { items.append(self.value(depth: depth - 1)) }
            if chance(20), !items.isEmpty { items.remove(at: int(0...items.count - 1)) }
            return .array(items)
        default:
            return chance(50) ? scalar() : value
        }
    }
}

extension JSONValue {
    /// Whether a `null` appears anywhere in the tree.
    var containsNull: Bool {
        switch self {
        case .null: true
        case .array(let items): items.contains { $0.containsNull }
        case .object(let fields): fields.values.contains { $0.containsNull }
        default: false
        }
    }
}

extension JSONValue {
    /// The tree without object members whose value is `null`, the one thing a merge patch
    /// cannot express.
    var removingNullMembers: JSONValue {
        switch self {
        case .array(let items): .array(items.map(\.removingNullMembers))
        case .object(let fields): .object(fields.filter { $0.value != .null }.mapValues(\.removingNullMembers))
        default: self
        }
    }
}
