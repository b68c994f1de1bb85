import DNS
import NetworkAddress
import TestSupport
import Testing

@Suite("Cluster answer cache")
struct ClusterAnswerCacheTests {
    static let web = try! DNSName("web.shop.svc.cluster.local")
    static let api = try! DNSName("api.billing.svc.cluster.local")
    static let webRecord = ResourceRecord(name: web, ttl: 30, data: .a(IPv4Address(10, 96, 0, 20)))
    static let apiRecord = ResourceRecord(name: api, ttl: 30, data: .a(IPv4Address(10, 96, 0, 30)))

    static func query(_ name: DNSName, namespace: String?) -> ClusterQuery {
        ClusterQuery(name: name, type: .a, namespace: namespace, fallsBackToUpstream: false)
    }

    @Test("a positive answer is served from the cache with a 4 s TTL until its 60 s lifetime ends")
    func positiveLifetime() async throws {
        let lookup = InMemoryClusterLookup(records: [Self.webRecord])
        let clock = ManualClock()
        let cache = ClusterAnswerCache(lookup: lookup, clock: clock)
        let first = await cache.answer(for: Self.query(Self.web, namespace: "shop"))
        #expect(first == .records([ResourceRecord(name: Self.web, ttl: 4, data: .a(IPv4Address(10, 96, 0, 20)))]))
        clock.advance(by: .seconds(59))
        #expect(await cache.answer(for: Self.query(Self.web, namespace: "shop")) == first)
        #expect(await lookup.lookupCount == 1)
        clock.advance(by: .seconds(2))
        #expect(await cache.answer(for: Self.query(Self.web, namespace: "shop")) == first)
        #expect(await lookup.lookupCount == 2)
    }

    @Test("NXDOMAIN is cached briefly, so a new service appears within seconds")
    func negativeLifetime() async throws {
        let lookup = InMemoryClusterLookup()
        let clock = ManualClock()
        let cache = ClusterAnswerCache(lookup: lookup, clock: clock)
        #expect(await cache.answer(for: Self.query(Self.web, namespace: "shop")) == .nameError)
        await lookup.add([Self.webRecord])
        clock.advance(by: .seconds(3))
        #expect(await cache.answer(for: Self.query(Self.web, namespace: "shop")) == .nameError)
        clock.advance(by: .seconds(2))
        guard case .records(let records) = await cache.answer(for: Self.query(Self.web, namespace: "shop")) else {
            Issue.record("the new service should resolve once the negative entry expired")
            return
        }
        #expect(records.count == 1)
        #expect(await lookup.lookupCount == 2)
    }

    @Test("invalidating a namespace forgets its answers and keeps the others'")
    func invalidateNamespace() async throws {
        let lookup = InMemoryClusterLookup(records: [Self.webRecord, Self.apiRecord])
        let cache = ClusterAnswerCache(lookup: lookup, clock: ManualClock())
        _ = await cache.answer(for: Self.query(Self.web, namespace: "shop"))
        _ = await cache.answer(for: Self.query(Self.api, namespace: "billing"))
        #expect(await cache.count == 2)
        await lookup.add([ResourceRecord(name: Self.web, ttl: 30, data: .a(IPv4Address(10, 96, 0, 99)))], replacing: true)
        await cache.invalidate(namespace: "Shop")
        #expect(await cache.count == 1)
        #expect(await cache.answer(for: Self.query(Self.web, namespace: "shop"))
            == .records([ResourceRecord(name: Self.web, ttl: 4, data: .a(IPv4Address(10, 96, 0, 99)))]))
        _ = await cache.answer(for: Self.query(Self.api, namespace: "billing"))
        #expect(await lookup.lookupCount == 3)
        await cache.invalidateAll()
        #expect(await cache.count == 0)
    }

    @Test("concurrent identical queries share one lookup")
    func coalescing() async throws {
        let lookup = InMemoryClusterLookup(records: [Self.webRecord])
        let clock = ManualClock()
        let cache = ClusterAnswerCache(lookup: lookup, clock: clock)
        await lookup.hold()
        try await withThrowingTaskGroup(of: CachedClusterAnswer.self) { group in
            for _ in 0..<20 {
                group.addTask { await cache.answer(for: Self.query(Self.web, namespace: "shop")) }
            }
            // Every waiter has armed its deadline timer once all 20 are inside the cache.
            try await waitUntil("20 waiters") { clock.sleeperCount == 20 }
            try await waitUntil("the lookup to arrive") { await lookup.heldCount == 1 }
            await lookup.release()
            var answers: [CachedClusterAnswer] = []
            for try await answer in group { answers.append(answer) }
            #expect(answers.count == 20)
            #expect(Set(answers).count == 1)
            #expect(answers.first.map { if case .records = $0 { true } else { false } } == true)
        }
        #expect(await lookup.lookupCount == 1)
        #expect(clock.sleeperCount == 0) // the timers were cancelled with the answer
    }

    @Test("a stuck lookup gives SERVFAIL at the deadline; its late answer still fills the cache")
    func deadline() async throws {
        let lookup = InMemoryClusterLookup(records: [Self.webRecord])
        let clock = ManualClock()
        let cache = ClusterAnswerCache(lookup: lookup, clock: clock)
        await lookup.hold()
        let waiting = Task { await cache.answer(for: Self.query(Self.web, namespace: "shop")) }
        try await waitUntil("the deadline timer") { clock.sleeperCount == 1 }
        clock.advance(by: .milliseconds(1999))
        clock.advance(by: .milliseconds(1))
        #expect(await waiting.value == .failure(.deadlineExceeded(.seconds(2))))
        await lookup.release()
        try await waitUntil("the late answer to be cached") { await cache.count == 1 }
        guard case .records = await cache.answer(for: Self.query(Self.web, namespace: "shop")) else {
            Issue.record("the late answer should be served from the cache")
            return
        }
        #expect(await lookup.lookupCount == 1)
    }

    @Test("a lookup stuck past the deadline is replaced by a fresh one for the next query")
    func stuckLookupReplaced() async throws {
        let lookup = InMemoryClusterLookup(records: [Self.webRecord])
        let clock = ManualClock()
        let cache = ClusterAnswerCache(lookup: lookup, clock: clock)
        await lookup.hold()
        let first = Task { await cache.answer(for: Self.query(Self.web, namespace: "shop")) }
        try await waitUntil("the deadline timer") { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(2))
        #expect(await first.value == .failure(.deadlineExceeded(.seconds(2))))
        let second = Task { await cache.answer(for: Self.query(Self.web, namespace: "shop")) }
        try await waitUntil("a second lookup") { await lookup.lookupCount == 2 }
        try await waitUntil("the second deadline timer") { clock.sleeperCount == 1 }
        await lookup.release()
        guard case .records = await second.value else {
            Issue.record("the fresh lookup should answer")
            return
        }
    }

    @Test("an answer that arrives after an invalidation is handed out but not cached")
    func invalidationDuringLookup() async throws {
        let lookup = InMemoryClusterLookup(records: [Self.webRecord])
        let clock = ManualClock()
        let cache = ClusterAnswerCache(lookup: lookup, clock: clock)
        await lookup.hold()
        let waiting = Task { await cache.answer(for: Self.query(Self.web, namespace: "shop")) }
        try await waitUntil("the lookup to arrive") { await lookup.heldCount == 1 }
        try await waitUntil("the deadline timer") { clock.sleeperCount == 1 }
        await cache.invalidate(namespace: "shop")
        await lookup.release()
        guard case .records = await waiting.value else {
            Issue.record("the waiting client should still get the answer")
            return
        }
        #expect(await cache.count == 0)
    }

    @Test("a failing lookup answers with a failure at once and is not cached")
    func failure() async throws {
        struct Unreachable: Error {}
        let lookup = InMemoryClusterLookup(records: [Self.webRecord])
        await lookup.fail(Self.web, with: Unreachable())
        let cache = ClusterAnswerCache(lookup: lookup, clock: ManualClock())
        guard case .failure(.lookupFailed) = await cache.answer(for: Self.query(Self.web, namespace: "shop")) else {
            Issue.record("a thrown lookup should be a failure")
            return
        }
        #expect(await cache.count == 0)
    }

    @Test("the cache stays within its size")
    func bounded() async throws {
        let clock = ManualClock()
        let cache = ClusterAnswerCache(lookup: InMemoryClusterLookup(), policy: DNSCachePolicy(maxEntries: 10), clock: clock)
        for index in 0..<50 {
            _ = await cache.answer(for: Self.query(try DNSName("n\(index).shop.svc.cluster.local"), namespace: "shop"))
        }
        #expect(await cache.count <= 10)
    }
}
