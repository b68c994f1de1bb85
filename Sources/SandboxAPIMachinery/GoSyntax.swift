import KubeClient

/// Values printed as Go's fmt prints them in the real server's messages: `%#v` of the Go values a
/// validation error names (`map[string]string{"app":"web"}`, `v1.LabelSelector{...}`) and `%+v`
/// of a decoded JSON patch (`map[spec:map[replicas:two]]`).
public enum GoSyntax {
    /// `%#v` of a `map[string]string` (keys sorted, as fmt sorts them); nil when absent.
    public static func stringMap(_ map: [String: String]?) -> String {
        guard let map else { return "map[string]string(nil)" }
        let entries = map.keys.sorted().map { "\(GoQuote.quote($0)):\(GoQuote.quote(map[$0]!))" }
        return "map[string]string{" + entries.joined(separator: ", ") + "}"
    }

    /// `%#v` of a `[]string`.
    public static func stringSlice(_ values: [String]?, type: String = "[]string") -> String {
        guard let values else { return "\(type)(nil)" }
        return type + "{" + values.map(GoQuote.quote).joined(separator: ", ") + "}"
    }

    /// `%#v` of a `metav1.LabelSelector` given as JSON.
    public static func labelSelector(_ selector: JSONValue?) -> String {
        let labels = selector?["matchLabels"]?.objectValue?.compactMapValues(\.stringValue)
        let expressions = selector?["matchExpressions"]?.arrayValue.map { items in
            "[]v1.LabelSelectorRequirement{" + items.map { item in
                let values = item["values"]?.arrayValue?.compactMap(\.stringValue)
                return "v1.LabelSelectorRequirement{Key:\(GoQuote.quote(item["key"]?.stringValue ?? "")), "
                    + "Operator:\(GoQuote.quote(item["operator"]?.stringValue ?? "")), Values:\(stringSlice(values))}"
            }.joined(separator: ", ") + "}"
        } ?? "[]v1.LabelSelectorRequirement(nil)"
        return "v1.LabelSelector{MatchLabels:\(stringMap(labels)), MatchExpressions:\(expressions)}"
    }

    /// `%#v` of an `intstr.IntOrString` given as JSON (a number or a string).
    public static func intOrString(_ value: JSONValue?) -> String {
        if let text = value?.stringValue {
            return "intstr.IntOrString{Type:1, IntVal:0, StrVal:\(GoQuote.quote(text))}"
        }
        return "intstr.IntOrString{Type:0, IntVal:\(value?.intValue ?? 0), StrVal:\"\"}"
    }

    /// `%+v` of a JSON value decoded into Go's `map[string]interface{}`: `map[a:1 b:[x y]]`.
    public static func plusV(_ value: JSONValue) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return OrderedJSON.literal(n)
        case .string(let s): return s
        case .array(let items): return "[" + items.map(plusV).joined(separator: " ") + "]"
        case .object(let fields):
            return "map[" + fields.keys.sorted().map { "\($0):\(plusV(fields[$0]!))" }.joined(separator: " ") + "]"
        }
    }
}
