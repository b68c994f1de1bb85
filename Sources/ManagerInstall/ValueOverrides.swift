import KubeClient

/// Helm's ways of overriding values, without helm: deep merge of values files, and `--set`
/// assignments (`a.b=c`, lists as `{x,y}`, `a.list[0]=x`, scalars typed as YAML would: true,
/// false, null, numbers; everything else is a string).
public enum ValueOverrides {
    /// `base` with `override` merged in: objects merge key by key, anything else replaces.
    public static func merge(_ base: JSONValue, _ override: JSONValue) -> JSONValue {
        guard case .object(var fields) = base, case .object(let extra) = override else { return override }
        for (key, value) in extra {
            fields[key] = fields[key].map { merge($0, value) } ?? value
        }
        return .object(fields)
    }

    /// Applies one `--set path=value` (several may be joined by commas outside braces).
    public static func apply(_ assignment: String, to tree: inout JSONValue) throws(InstallError) {
        for single in splitTopLevel(assignment) {
            guard let eq = single.firstIndex(of: "=") else {
                throw .invalidSet(assignment, reason: "it has no '='; write --set key=value")
            }
            let path = String(single[..<eq])
            let raw = String(single[single.index(after: eq)...])
            let keys = path.split(separator: ".").map(String.init)
            guard !keys.isEmpty, !keys.contains(where: \.isEmpty) else {
                throw .invalidSet(assignment, reason: "the key is empty; write --set key=value")
            }
            try set(&tree, keys[...], value: parse(raw), assignment: assignment)
        }
    }

    private static func set(_ node: inout JSONValue, _ keys: ArraySlice<String>, value: JSONValue, assignment: String) throws(InstallError) {
        guard var key = keys.first else { node = value; return }
        var index: Int?
        if key.hasSuffix("]"), let open = key.firstIndex(of: "[") {
            let digits = key[key.index(after: open)..<key.index(before: key.endIndex)]
            guard let i = Int(digits), i >= 0 else { throw .invalidSet(assignment, reason: "\(key) has no valid list index") }
            index = i
            key = String(key[..<open])
        }
        var fields = node.objectValue ?? [:]
        var child = fields[key] ?? (index == nil ? [:] : [])
        if let index {
            var items = child.arrayValue ?? []
            while items.count <= index { items.append(.null) }
            var element = items[index]
            if keys.count == 1 { element = value } else {
                if element.objectValue == nil { element = [:] }
                try set(&element, keys.dropFirst(), value: value, assignment: assignment)
            }
            items[index] = element
            child = .array(items)
        } else if keys.count == 1 {
            child = value
        } else {
            if child.objectValue == nil { child = [:] }
            try set(&child, keys.dropFirst(), value: value, assignment: assignment)
        }
        fields[key] = child
        node = .object(fields)
    }

    /// A value as helm's `--set` types it.
    static func parse(_ raw: String) -> JSONValue {
        if raw.hasPrefix("{") && raw.hasSuffix("}") {
            let inner = raw.dropFirst().dropLast()
            if inner.isEmpty { return [] }
            return .array(inner.split(separator: ",").map { parse(String($0)) })
        }
        switch raw {
        case "true": return true
        case "false": return false
        case "null": return .null
        default: break
        }
        if let int = Int(raw), !(raw.hasPrefix("0") && raw.count > 1) { return .number(Double(int)) }
        return .string(raw)
    }

    /// Splits `a=1,b={x,y}` at the commas that are not inside braces.
    static func splitTopLevel(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "{" { depth += 1 }
            if character == "}" { depth -= 1 }
            if character == ",", depth == 0, current.contains("=") {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    /// Fails on a key the chart does not have (a typo would otherwise be ignored silently).
    static func checkKnown(_ user: JSONValue, against defaults: JSONValue, openPaths: Set<String>, prefix: String = "") throws(InstallError) {
        guard case .object(let fields) = user else { return }
        guard case .object(let known) = defaults else { return }
        for (key, value) in fields {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if openPaths.contains(path) { continue }
            guard let expected = known[key] else {
                throw .unknownValue(path, known: known.keys.sorted().map { prefix.isEmpty ? $0 : "\(prefix).\($0)" })
            }
            try checkKnown(value, against: expected, openPaths: openPaths, prefix: path)
        }
    }
}
