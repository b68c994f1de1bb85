/// Selects objects by their labels (`spec.selector` of workloads, webhook selectors). All the
/// given terms must hold; an empty selector matches everything.
public struct LabelSelector: Codable, Sendable, Hashable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [LabelSelectorRequirement]?

    public init(matchLabels: [String: String]? = nil, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    /// Whether an object with these labels is selected, as the API server and controllers decide.
    /// An unknown operator matches nothing, so a selector we do not understand selects no pods.
    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels ?? [:] where labels[key] != value {
            return false
        }
        return (matchExpressions ?? []).allSatisfy { $0.matches(labels) }
    }
}

/// One term of a `LabelSelector`, e.g. `{key: tier, operator: In, values: [web, api]}`.
public struct LabelSelectorRequirement: Codable, Sendable, Hashable {
    public var key: String
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    public var `operator`: String
    public var values: [String]?

    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }

    public func matches(_ labels: [String: String]) -> Bool {
        let value = labels[key]
        switch `operator` {
        case "In": return value.map { (values ?? []).contains($0) } ?? false
        case "NotIn": return value.map { !(values ?? []).contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        default: return false
        }
    }
}
