import Testing
@testable import TrafficManager

@Suite struct SessionRegistryTests {
    let client = SessionRegistry.ClientIdentity(name: "dev@laptop", installID: "i", namespace: "default", mappedNamespaces: [], version: "1")

    @Test func quietSessionsExpireAndKeptOnesLive() throws {
        var registry = SessionRegistry(ttl: .seconds(10))
        let t0 = ContinuousClock.now
        var next = 0
        let a = registry.arrive(client, now: t0) { next += 1; return "a\(next)" }
        let b = registry.arrive(client, now: t0) { next += 1; return "b\(next)" }
        try registry.remain(a, now: t0 + .seconds(8))
        #expect(registry.expire(now: t0 + .seconds(9)).isEmpty)
        let expired = registry.expire(now: t0 + .seconds(11))
        #expect(expired.map(\.id) == [b])
        #expect(registry.isAlive(a))
        #expect(throws: SessionRegistry.Failure.unknownSession(b)) { try registry.remain(b, now: t0 + .seconds(11)) }
        #expect(registry.expire(now: t0 + .seconds(19)).map(\.id) == [a])
    }

    @Test func departEndsASessionAndIsIdempotent() {
        var registry = SessionRegistry(ttl: .seconds(10))
        let id = registry.arrive(client, now: .now)
        #expect(registry.depart(id) != nil)
        #expect(registry.depart(id) == nil)
        #expect(!registry.isAlive(id))
    }
}
