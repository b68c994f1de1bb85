/// The kind of an engagement, as `InterceptSpec.kind` spells it ("" is an intercept, so specs
/// written before kinds existed still mean what they meant).
public enum EngagementKind: String, Sendable, Hashable, CaseIterable, Codable {
    case intercept
    case wiretap
    case replace
    case ingest

    public init?(spec text: String) {
        if text.isEmpty { self = .intercept } else { self.init(rawValue: text) }
    }

    /// Whether connections (or copies of them) move to the client.
    public var movesTraffic: Bool { self != .ingest }
}

extension Telepresence_Manager_InterceptSpec {
    /// The spec's kind (an unknown text is nil: the manager refuses it with BAD_ARGS).
    public var engagementKind: EngagementKind? { EngagementKind(spec: kind) }
}
