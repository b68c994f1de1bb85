/// What the cluster said about a name.
public enum ClusterAnswer: Sendable, Hashable {
    /// The name exists; the records may be empty (the name has no records of the asked type).
    case records([ResourceRecord])
    /// The name does not exist (NXDOMAIN).
    case nameError
}

/// Looks names up inside the cluster. The traffic-manager client implements it (its LookupDNS
/// call); tests use `InMemoryClusterLookup`. An implementation should return promptly or throw:
/// the cache gives up on it after its deadline anyway.
public protocol ClusterLookup: Sendable {
    /// Looks up `name` (fully qualified, e.g. `web.shop.svc.cluster.local`) for records of `type`.
    func lookup(name: DNSName, type: DNSRecordType) async throws -> ClusterAnswer
}

/// A cluster made of a fixed table, for tests and demos. Counts its lookups so tests can see what
/// the cache spared, and can be told to hold answers back until released.
public actor InMemoryClusterLookup: ClusterLookup {
    private var records: [DNSName: [ResourceRecord]] = [:]
    private var failures: [DNSName: any Error] = [:]
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// How many lookups reached this table.
    public private(set) var lookupCount = 0

    public init(records: [ResourceRecord] = []) {
        for record in records { self.records[record.name, default: []].append(record) }
    }

    /// Adds (or, with `replacing`, sets) the records of a name.
    public func add(_ newRecords: [ResourceRecord], replacing: Bool = false) {
        for name in Set(newRecords.map(\.name)) where replacing { records[name] = [] }
        for record in newRecords { records[record.name, default: []].append(record) }
    }

    /// Removes every record of `name`, so it answers NXDOMAIN.
    public func remove(_ name: DNSName) {
        records[name] = nil
    }

    /// Makes lookups of `name` throw `error`.
    public func fail(_ name: DNSName, with error: any Error) {
        failures[name] = error
    }

    /// While held, lookups wait (as a slow or stuck traffic-manager would) until `release()`.
    public func hold() {
        held = true
    }

    /// Lets held lookups answer.
    public func release() {
        held = false
        let continuations = waiting
        waiting = []
        for continuation in continuations { continuation.resume() }
    }

    /// How many lookups are waiting for `release()`.
    public var heldCount: Int { waiting.count }

    public func lookup(name: DNSName, type: DNSRecordType) async throws -> ClusterAnswer {
        lookupCount += 1
        if held {
            await withCheckedContinuation { waiting.append($0) }
        }
        if let error = failures[name] { throw error }
        guard let all = records[name] else { return .nameError }
        return .records(all.filter { type == .any || $0.type == type || $0.type == .cname })
    }
}
