/// Which workloads `list` shows: Telepresence's bitmap (connector.proto `ListRequest.Filter`).
/// Empty: every workload. Set bits select a workload with an engagement of that kind (or an
/// installed agent); a workload matches when any set bit does.
public struct ListFilter: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let intercepts = ListFilter(rawValue: 1)
    public static let replacements = ListFilter(rawValue: 2)
    public static let ingests = ListFilter(rawValue: 4)
    public static let wiretaps = ListFilter(rawValue: 8)
    public static let installedAgents = ListFilter(rawValue: 16)
    /// Every bit (connector.proto's EVERYTHING): means every workload, as empty does.
    public static let everything = 31

    /// Whether `workload` is one to show.
    public func selects(_ workload: Workload) -> Bool {
        if isEmpty { return true }
        if contains(.installedAgents) && workload.agent != .none { return true }
        let kinds = Set(workload.intercepts.map(\.kind))
        return (contains(.intercepts) && kinds.contains(.intercept))
            || (contains(.replacements) && kinds.contains(.replace))
            || (contains(.ingests) && kinds.contains(.ingest))
            || (contains(.wiretaps) && kinds.contains(.wiretap))
    }
}
