import KubeClient

/// Label and field selectors, minimal, until APIMachinery's parsers are merged.
enum FallbackSelectors {
    struct LabelMatcher: Sendable {
        enum Term: Sendable {
            case equals(String, String), notEquals(String, String)
            case isIn(String, Set<String>), notIn(String, Set<String>)
            case exists(String), notExists(String)
        }
        var terms: [Term]
        var isEmpty: Bool { terms.isEmpty }

        func matches(_ labels: [String: String]) -> Bool {
            terms.allSatisfy { term in
                switch term {
                case .equals(let k, let v): labels[k] == v
                case .notEquals(let k, let v): labels[k] != v
                case .isIn(let k, let vs): labels[k].map(vs.contains) ?? false
                case .notIn(let k, let vs): !(labels[k].map(vs.contains) ?? false)
                case .exists(let k): labels[k] != nil
                case .notExists(let k): labels[k] == nil
                }
            }
        }
    }

    static func parseLabels(_ text: String) throws(APIError) -> LabelMatcher {
        var terms: [LabelMatcher.Term] = []
        // Split on commas outside parentheses.
        var parts: [String] = []
        var depth = 0
        var current = ""
        for c in text {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if c == "," && depth == 0 { parts.append(current); current = "" } else { current.append(c) }
        }
        parts.append(current)
        for raw in parts {
            let part = raw.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            func values(_ rest: Substring) throws(APIError) -> Set<String> {
                let t = rest.trimmingCharacters(in: .whitespaces)
                guard t.hasPrefix("("), t.hasSuffix(")") else { throw .badRequest("unable to parse requirement: found '\(t)', expected: '('") }
                return Set(t.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            }
            if let r = part.range(of: " notin ") {
                terms.append(.notIn(String(part[..<r.lowerBound]).trimmingCharacters(in: .whitespaces), try values(part[r.upperBound...])))
            } else if let r = part.range(of: " in ") {
                terms.append(.isIn(String(part[..<r.lowerBound]).trimmingCharacters(in: .whitespaces), try values(part[r.upperBound...])))
            } else if let r = part.range(of: "!=") {
                terms.append(.notEquals(trim(part[..<r.lowerBound]), trim(part[r.upperBound...])))
            } else if let r = part.range(of: "==") {
                terms.append(.equals(trim(part[..<r.lowerBound]), trim(part[r.upperBound...])))
            } else if let r = part.range(of: "=") {
                terms.append(.equals(trim(part[..<r.lowerBound]), trim(part[r.upperBound...])))
            } else if part.hasPrefix("!") {
                terms.append(.notExists(trim(part.dropFirst())))
            } else {
                terms.append(.exists(part))
            }
        }
        return LabelMatcher(terms: terms)
    }

    static func trim(_ s: Substring) -> String { s.trimmingCharacters(in: .whitespaces) }

    struct FieldMatcher: Sendable {
        var terms: [(path: [String], value: String, equal: Bool)]
        var isEmpty: Bool { terms.isEmpty }
        func matches(_ object: JSONValue) -> Bool {
            terms.allSatisfy { term in
                var v: JSONValue? = object
                for p in term.path { v = v?[p] }
                let actual = v?.stringValue ?? ""
                return (actual == term.value) == term.equal
            }
        }
    }

    static func parseFields(_ text: String, type: ResourceType) throws(APIError) -> FieldMatcher {
        var terms: [(path: [String], value: String, equal: Bool)] = []
        for raw in text.split(separator: ",") {
            let part = String(raw)
            let (field, value, equal): (String, String, Bool)
            if let r = part.range(of: "!=") {
                (field, value, equal) = (String(part[..<r.lowerBound]), String(part[r.upperBound...]), false)
            } else if let r = part.range(of: "==") {
                (field, value, equal) = (String(part[..<r.lowerBound]), String(part[r.upperBound...]), true)
            } else if let r = part.range(of: "=") {
                (field, value, equal) = (String(part[..<r.lowerBound]), String(part[r.upperBound...]), true)
            } else {
                throw .badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            var allowed = ["metadata.name", "metadata.namespace"]
            if type.kind == "Pod" {
                allowed += ["spec.nodeName", "status.phase", "spec.serviceAccountName", "spec.restartPolicy",
                            "spec.schedulerName", "status.podIP", "status.nominatedNodeName"]
            }
            if type.kind == "Event" { allowed += ["involvedObject.name", "involvedObject.kind", "involvedObject.namespace", "involvedObject.uid", "reason", "type"] }
            if type.kind == "Secret" { allowed.append("type") }
            guard allowed.contains(field) else {
                throw .badRequest("field label not supported: \(field)")
            }
            terms.append((field.split(separator: ".").map(String.init), value, equal))
        }
        return FieldMatcher(terms: terms)
    }
}
