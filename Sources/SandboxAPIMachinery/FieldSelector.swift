import Foundation
import KubeClient

/// A parsed field selector (`metadata.name=web,status.phase!=Running`), with the per-resource
/// list of fields the real API server supports, its error messages, and the values of those
/// fields in a JSON object.
public struct FieldSelector: Sendable, Hashable, CustomStringConvertible {
    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public let field: String
        /// True for `!=`; `=` and `==` mean the same.
        public let negated: Bool
        public let value: String

        public init(field: String, negated: Bool, value: String) {
            self.field = field
            self.negated = negated
            self.value = value
        }

        public var description: String {
            field + (negated ? "!=" : "=") + FieldSelector.escape(value)
        }
    }

    /// Sorted like apimachinery sorts the terms.
    public private(set) var requirements: [Requirement]

    public static let everything = FieldSelector(requirements: [])

    public init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// Parses `field=value`, `field==value` and `field!=value` terms separated by commas
    /// (`\,`, `\=` and `\\` escape). An empty string selects everything.
    public init(parsing text: String) throws(SelectorError) {
        var requirements: [Requirement] = []
        for term in FieldSelector.splitTerms(text).sorted() where !term.isEmpty {
            guard let (field, op, rawValue) = FieldSelector.splitTerm(term) else {
                throw SelectorError("invalid selector: '\(text)'; can't understand '\(term)'")
            }
            let value = try FieldSelector.unescape(rawValue)
            requirements.append(Requirement(field: field, negated: op == "!=", value: value))
        }
        self.init(requirements: requirements)
    }

    /// Parses and checks every field against what `resource` (plural, e.g. `pods`) supports,
    /// translating legacy names (`spec.host` → `spec.nodeName`) as the real server does.
    public init(parsing text: String, resource: String) throws(SelectorError) {
        let parsed = try FieldSelector(parsing: text)
        let support = FieldSelector.support(forResource: resource)
        var requirements: [Requirement] = []
        for requirement in parsed.requirements {
            let field = support.aliases[requirement.field] ?? requirement.field
            guard support.fields.contains(field) else { throw SelectorError(support.unsupported(requirement.field)) }
            requirements.append(Requirement(field: field, negated: requirement.negated, value: requirement.value))
        }
        self.init(requirements: requirements)
    }

    /// Whether every term holds. `fieldValue` returns a field's value; nil counts as the empty
    /// string, as a missing field does in Go's field sets.
    public func matches(fieldValue: (String) -> String?) -> Bool {
        requirements.allSatisfy { requirement in
            let actual = fieldValue(requirement.field) ?? ""
            return requirement.negated ? actual != requirement.value : actual == requirement.value
        }
    }

    /// Matches the fields of a JSON object of `resource`.
    public func matches(_ object: JSONValue, resource: String) -> Bool {
        matches { FieldSelector.value(ofField: $0, in: object, resource: resource) }
    }

    public var isEverything: Bool { requirements.isEmpty }

    public var description: String { requirements.map(\.description).joined(separator: ",") }

    // MARK: What each resource supports

    struct Support {
        var fields: Set<String>
        var aliases: [String: String] = [:]
        /// Resources with their own conversion function word the error differently from the
        /// generic one, exactly as the real server does.
        var hasOwnConversion: Bool

        func unsupported(_ field: String) -> String {
            hasOwnConversion
                ? "field label not supported: \(field)"
                : "\(GoQuote.quote(field)) is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
        }
    }

    private static let meta: Set<String> = ["metadata.name", "metadata.namespace"]

    static func support(forResource resource: String) -> Support {
        switch resource {
        case "pods":
            Support(
                fields: meta.union([
                    "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                    "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs", "status.nominatedNodeName",
                ]),
                aliases: ["spec.host": "spec.nodeName"], hasOwnConversion: true)
        case "events":
            Support(
                fields: meta.union([
                    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                    "reason", "reportingComponent", "source", "type",
                ]),
                hasOwnConversion: true)
        case "secrets": Support(fields: meta.union(["type"]), hasOwnConversion: true)
        case "namespaces": Support(fields: ["metadata.name", "status.phase"], hasOwnConversion: true)
        case "nodes": Support(fields: ["metadata.name", "spec.unschedulable"], hasOwnConversion: true)
        case "services": Support(fields: meta.union(["spec.clusterIP", "spec.type"]), hasOwnConversion: true)
        case "replicasets", "replicationcontrollers": Support(fields: meta.union(["status.replicas"]), hasOwnConversion: true)
        case "statefulsets", "jobs": Support(fields: meta.union(["status.successful"]), hasOwnConversion: true)
        default: Support(fields: meta, hasOwnConversion: false)
        }
    }

    /// The fields `resource` can be selected on, sorted.
    public static func supportedFields(forResource resource: String) -> [String] {
        support(forResource: resource).fields.sorted()
    }

    /// The value of a selectable field in an object, formatted as the real field sets do:
    /// missing strings are `""`, booleans `true`/`false`, counts decimal; an event's `source`
    /// is its `source.component`.
    public static func value(ofField field: String, in object: JSONValue, resource: String) -> String? {
        switch (resource, field) {
        case ("events", "source"):
            return object["source"]?["component"]?.stringValue ?? ""
        case ("pods", "status.podIPs"):
            return (object["status"]?["podIPs"]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }.joined(separator: ",")
        default:
            break
        }
        var current: JSONValue? = object
        for part in field.split(separator: ".") {
            current = current?[String(part)]
        }
        switch current {
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .number: return current?.intValue.map(String.init) ?? ""
        default:
            switch field {
            case "spec.hostNetwork", "spec.unschedulable": return "false"
            case "status.replicas", "status.successful": return "0"
            default: return ""
            }
        }
    }

    // MARK: Syntax

    /// Splits on commas that are not escaped with a backslash.
    static func splitTerms(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var terms: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped {
                current.append(c)
                escaped = false
            } else if c == "\\" {
                current.append(c)
                escaped = true
            } else if c == "," {
                terms.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        terms.append(current)
        return terms
    }

    /// Finds the first unescaped `!=`, `==` or `=`.
    static func splitTerm(_ term: String) -> (String, String, String)? {
        let chars = Array(term)
        var index = 0
        while index < chars.count {
            if chars[index] == "\\" {
                index += 2
                continue
            }
            for op in ["!=", "==", "="] {
                let opChars = Array(op)
                if index + opChars.count <= chars.count, Array(chars[index..<index + opChars.count]) == opChars {
                    return (String(chars[..<index]), op, String(chars[(index + opChars.count)...]))
                }
            }
            index += 1
        }
        return nil
    }

    static func unescape(_ text: String) throws(SelectorError) -> String {
        var out = ""
        var escaped = false
        for c in text {
            if escaped {
                guard c == "\\" || c == "," || c == "=" else {
                    throw SelectorError("invalid field selector: invalid escape sequence: \\\(c)")
                }
                out.append(c)
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else {
                guard c != "," && c != "=" else {
                    throw SelectorError("invalid field selector: unescaped \(c) in value")
                }
                out.append(c)
            }
        }
        if escaped { throw SelectorError("invalid field selector: unterminated escape sequence") }
        return out
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: ",", with: "\\,")
            .replacingOccurrences(of: "=", with: "\\=")
    }
}
