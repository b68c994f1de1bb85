/// How long answers live and how long a client may wait.
public struct DNSCachePolicy: Sendable, Hashable {
    /// How long a positive answer is kept here (Telepresence: 60 s), unless invalidated sooner.
    public var positiveLifetime: Duration
    /// How long "no such name" is kept here; short, so a new service shows up quickly.
    public var negativeLifetime: Duration
    /// The TTL clients are told, so the OS caches forget cluster names quickly (Telepresence: 4 s).
    public var servedTTL: UInt32
    /// How long a client waits for the cluster before it gets SERVFAIL.
    public var lookupDeadline: Duration
    /// The most answers kept; expired ones go first, then the oldest.
    public var maxEntries: Int

    public init(
        positiveLifetime: Duration = .seconds(60), negativeLifetime: Duration = .seconds(4),
        servedTTL: UInt32 = 4, lookupDeadline: Duration = .seconds(2), maxEntries: Int = 10_000
    ) {
        self.positiveLifetime = positiveLifetime
        self.negativeLifetime = negativeLifetime
        self.servedTTL = servedTTL
        self.lookupDeadline = lookupDeadline
        self.maxEntries = maxEntries
    }
}

/// Why the cluster gave no answer.
public enum ClusterLookupFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The cluster did not answer within the lookup deadline.
    case deadlineExceeded(Duration)
    /// The lookup threw; the text is the error's description.
    case lookupFailed(String)

    public var description: String {
        switch self {
        case .deadlineExceeded(let deadline):
            return "The cluster did not answer a DNS lookup within \(deadline); check the connection with `telepresence status`."
        case .lookupFailed(let reason):
            return "The cluster DNS lookup failed (\(reason)); check the connection with `telepresence status`."
        }
    }
}

/// An answer as the cache hands it out.
public enum CachedClusterAnswer: Sendable, Hashable {
    /// Records with TTLs already lowered to the served TTL.
    case records([ResourceRecord])
    case nameError
    case failure(ClusterLookupFailure)
}

/// Caches cluster answers, shares one lookup among concurrent identical queries, and gives up on a
/// lookup after the deadline so no client waits for seconds. A lookup that outlives the deadline
/// keeps running and its answer is cached for the next query.
public actor ClusterAnswerCache {
    private struct Key: Hashable {
        var name: DNSName
        var type: DNSRecordType
    }

    private struct Entry {
        var answer: ClusterAnswer
        var storedAt: Duration
        var expiresAt: Duration
        var namespace: String?
    }

    private struct Waiter {
        var continuation: CheckedContinuation<CachedClusterAnswer, Never>
        var timer: Task<Void, Never>
    }

    private struct InFlight {
        var token: Int
        var startedAt: Duration
        var namespace: String?
        /// Set when an invalidation happened after the lookup started: its answer may be stale,
        /// so it is handed to the waiters but not stored.
        var isStale = false
        var waiters: [Int: Waiter] = [:]
        var task: Task<Void, Never>?
    }

    private let lookup: any ClusterLookup
    private let clock: any DNSClock
    public let policy: DNSCachePolicy
    private var entries: [Key: Entry] = [:]
    private var inFlight: [Key: InFlight] = [:]
    private var nextToken = 0

    /// Lookups actually sent to the cluster (for tests and the benchmark).
    public private(set) var lookupsStarted = 0

    public init(lookup: any ClusterLookup, policy: DNSCachePolicy = DNSCachePolicy(), clock: any DNSClock = SystemDNSClock()) {
        self.lookup = lookup
        self.policy = policy
        self.clock = clock
    }

    /// The answer for `query`, from the cache, from a lookup already running, or from a new one;
    /// returns within the lookup deadline.
    public func answer(for query: ClusterQuery) async -> CachedClusterAnswer {
        let key = Key(name: query.name, type: query.type)
        let now = clock.now
        if let entry = entries[key] {
            if now < entry.expiresAt { return served(entry.answer) }
            entries[key] = nil
        }
        // A lookup older than the deadline is presumed stuck; a fresh one replaces it.
        if let running = inFlight[key], now - running.startedAt >= policy.lookupDeadline {
            running.task?.cancel()
            finish(key: key, token: running.token, with: .failure(.deadlineExceeded(policy.lookupDeadline)), store: nil)
        }
        if inFlight[key] == nil { start(key: key, namespace: query.namespace, now: now) }
        nextToken += 1
        let waiterID = nextToken
        let deadline = policy.lookupDeadline
        let timer = Task { [clock] in
            do { try await clock.sleep(for: deadline) } catch { return }
            self.expire(key: key, waiterID: waiterID)
        }
        return await withCheckedContinuation { continuation in
            // Nothing suspends between starting the lookup and here, so it is still in flight;
            // were it not, the waiter must not be left hanging.
            guard inFlight[key] != nil else {
                timer.cancel()
                continuation.resume(returning: .failure(.lookupFailed("the lookup ended before it was awaited")))
                return
            }
            inFlight[key]?.waiters[waiterID] = Waiter(continuation: continuation, timer: timer)
        }
    }

    /// Forgets answers about `namespace` (and reverse names, which may point into it); call when
    /// its services or pods change.
    public func invalidate(namespace: String) {
        let namespace = namespace.lowercased()
        entries = entries.filter { $0.value.namespace != nil && $0.value.namespace != namespace }
        for key in inFlight.keys where inFlight[key]?.namespace == nil || inFlight[key]?.namespace == namespace {
            inFlight[key]?.isStale = true
        }
    }

    /// Forgets every answer; call when namespaces, intercepts or the connection change.
    public func invalidateAll() {
        entries = [:]
        for key in inFlight.keys { inFlight[key]?.isStale = true }
    }

    /// Number of answers held (expired ones included until they are next touched).
    public var count: Int { entries.count }

    /// Stops running lookups and answers their waiters with a failure.
    public func shutdown() {
        for (key, running) in inFlight {
            running.task?.cancel()
            finish(key: key, token: running.token, with: .failure(.lookupFailed("the DNS server is stopping")), store: nil)
        }
    }

    private func start(key: Key, namespace: String?, now: Duration) {
        nextToken += 1
        let token = nextToken
        lookupsStarted += 1
        inFlight[key] = InFlight(token: token, startedAt: now, namespace: namespace)
        let lookup = self.lookup
        inFlight[key]?.task = Task {
            let answer: ClusterAnswer?
            let failure: ClusterLookupFailure?
            do {
                answer = try await lookup.lookup(name: key.name, type: key.type)
                failure = nil
            } catch {
                answer = nil
                failure = .lookupFailed(String(describing: error))
            }
            self.complete(key: key, token: token, answer: answer, failure: failure)
        }
    }

    private func complete(key: Key, token: Int, answer: ClusterAnswer?, failure: ClusterLookupFailure?) {
        if let answer {
            finish(key: key, token: token, with: served(answer), store: answer)
        } else {
            finish(key: key, token: token, with: .failure(failure ?? .lookupFailed("no answer")), store: nil)
        }
    }

    private func finish(key: Key, token: Int, with result: CachedClusterAnswer, store answer: ClusterAnswer?) {
        guard let running = inFlight[key], running.token == token else { return }
        inFlight[key] = nil
        if let answer, !running.isStale {
            let now = clock.now
            let lifetime: Duration
            if case .records = answer { lifetime = policy.positiveLifetime } else { lifetime = policy.negativeLifetime }
            makeRoom(now: now)
            entries[key] = Entry(answer: answer, storedAt: now, expiresAt: now + lifetime, namespace: running.namespace)
        }
        for waiter in running.waiters.values {
            waiter.timer.cancel()
            waiter.continuation.resume(returning: result)
        }
    }

    private func expire(key: Key, waiterID: Int) {
        guard let waiter = inFlight[key]?.waiters.removeValue(forKey: waiterID) else { return }
        waiter.continuation.resume(returning: .failure(.deadlineExceeded(policy.lookupDeadline)))
    }

    private func makeRoom(now: Duration) {
        guard entries.count >= policy.maxEntries else { return }
        entries = entries.filter { now < $0.value.expiresAt }
        if entries.count >= policy.maxEntries {
            let oldest = entries.sorted { $0.value.storedAt < $1.value.storedAt }.prefix(entries.count - policy.maxEntries / 2)
            for (key, _) in oldest { entries[key] = nil }
        }
    }

    private func served(_ answer: ClusterAnswer) -> CachedClusterAnswer {
        switch answer {
        case .nameError:
            return .nameError
        case .records(let records):
            return .records(records.map { record in
                var record = record
                record.ttl = min(record.ttl, policy.servedTTL)
                return record
            })
        }
    }
}
