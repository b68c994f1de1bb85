/// The workloads of one namespace as a client last saw them; applying a change returns the
/// event to send, or nil when nothing a client sees changed (status churn of other fields).
public struct WorkloadTable: Sendable {
    public enum EventType: Sendable, Hashable { case added, modified, deleted }

    /// One change to send.
    public struct Change: Sendable, Hashable {
        public var type: EventType
        public var workload: WorkloadSummary
    }

    public private(set) var workloads: [String: WorkloadSummary] = [:]

    public init() {}

    /// Every workload, as ADDED changes sorted by kind and name (a stream's first message).
    public var snapshot: [Change] {
        workloads.values.sorted { ($0.kind.rawValue, $0.name) < ($1.kind.rawValue, $1.name) }
            .map { Change(type: .added, workload: $0) }
    }

    public mutating func upsert(_ workload: WorkloadSummary) -> Change? {
        let previous = workloads.updateValue(workload, forKey: workload.key)
        if previous == workload { return nil }
        return Change(type: previous == nil ? .added : .modified, workload: workload)
    }

    public mutating func remove(_ workload: WorkloadSummary) -> Change? {
        guard let previous = workloads.removeValue(forKey: workload.key) else { return nil }
        return Change(type: .deleted, workload: previous)
    }

    /// Replaces all workloads of one kind (after a relist) and returns the changes.
    public mutating func replace(kind: WorkloadSummary.Kind, with all: [WorkloadSummary]) -> [Change] {
        var changes: [Change] = []
        let keep = Set(all.map(\.key))
        for old in workloads.values where old.kind == kind && !keep.contains(old.key) {
            if let change = remove(old) { changes.append(change) }
        }
        for workload in all {
            if let change = upsert(workload) { changes.append(change) }
        }
        return changes
    }
}
