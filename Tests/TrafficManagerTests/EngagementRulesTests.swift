import Foundation
import HTTPRouting
import RPC
import Testing
@testable import TrafficManager

/// Which engagements of a workload may coexist, and the sentence a refused one gets: every rule
/// of `EngagementRules`, through `EngagementState.create` as the manager calls it.
@Suite struct EngagementRulesTests {
    /// 14:02:11 UTC.
    static let t0 = Date(timeIntervalSince1970: 14 * 3600 + 2 * 60 + 11)

    func spec(
        _ name: String, kind: EngagementKind = .intercept, filter: HTTPFilter? = nil, port: Int32 = 8080,
        container: String = "echo", client: String = "alice@laptop"
    ) -> Telepresence_Manager_InterceptSpec {
        .with {
            $0.name = name
            $0.kind = kind.rawValue
            if let filter { $0.httpFilter = filter.proto }
            $0.agent = "echo"
            $0.namespace = "default"
            $0.workloadKind = "Deployment"
            $0.client = client
            $0.containerName = container
            if kind == .replace {
                $0.replacedPorts = [.with { $0.containerPort = 8080; $0.protocol = "TCP"; $0.agentPort = 8080; $0.targetPort = 8080 },
                                    .with { $0.containerPort = 9000; $0.protocol = "TCP"; $0.agentPort = 9000; $0.targetPort = 9000 }]
            } else if kind != .ingest {
                $0.containerPort = port
                $0.protocol = "TCP"
            }
        }
    }

    func header(_ text: String) throws -> HTTPFilter {
        try HTTPFilter.parse(headers: [text], pathEqual: nil, pathPrefix: nil, pathRegex: nil)
    }

    func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return "\(error)" }
        return nil
    }

    @Test func anUnfilteredInterceptConflictsWithAnyOtherInterceptOfItsPort() throws {
        var state = EngagementState()
        try state.create(spec("a", filter: try header("X-User=alice")), clientSession: "alice", now: Self.t0)
        let said = refusal { try state.create(spec("b", client: "bob@desk"), clientSession: "bob", now: Self.t0) }
        #expect(said == "port 8080 of deployment echo is already intercepted by alice@laptop (intercept a: HTTP requests with header 'X-User: alice', since 14:02:11 UTC)")
        // And the other way round: a filtered one after an unfiltered one.
        var other = EngagementState()
        try other.create(spec("a"), clientSession: "alice", now: Self.t0)
        #expect(refusal { try other.create(spec("b", filter: try header("X-User=bob"), client: "bob@desk"), clientSession: "bob", now: Self.t0) }
            == "port 8080 of deployment echo is already intercepted by alice@laptop (intercept a: all TCP connections, since 14:02:11 UTC)")
    }

    @Test func filteredInterceptsConflictOnlyWhenTheirFiltersOverlap() throws {
        var state = EngagementState()
        try state.create(spec("alice", filter: try header("X-User: alice")), clientSession: "alice", now: Self.t0)
        // Disjoint: another value of the same header.
        try state.create(spec("bob", filter: try header("X-User: bob"), client: "bob@desk"), clientSession: "bob", now: Self.t0)
        // Overlapping: a path prefix says nothing about the header.
        let api = try HTTPFilter.parse(headers: [], pathEqual: nil, pathPrefix: "/api", pathRegex: nil)
        let said = refusal { try state.create(spec("carol", filter: api, client: "carol@pc"), clientSession: "carol", now: Self.t0) }
        #expect(said == "port 8080 of deployment echo is already intercepted by alice@laptop (intercept alice: HTTP requests with header 'X-User: alice', since 14:02:11 UTC)")
        #expect(state.intercepts.count == 2)
    }

    @Test func aReplaceHoldsItsContainerAgainstInterceptsAndReplaces() throws {
        var state = EngagementState()
        try state.create(spec("echo", kind: .replace), clientSession: "alice", now: Self.t0)
        let intercept = refusal { try state.create(spec("mine", client: "bob@desk"), clientSession: "bob", now: Self.t0) }
        #expect(intercept == "container echo of deployment echo is already replaced by alice@laptop (replace echo: replaced: ports 8080/TCP, 9000/TCP, since 14:02:11 UTC)")
        let replace = refusal { try state.create(spec("echo", kind: .replace, client: "bob@desk"), clientSession: "bob", now: Self.t0) }
        #expect(replace == "container echo of deployment echo is already replaced by alice@laptop (replace echo: replaced: ports 8080/TCP, 9000/TCP, since 14:02:11 UTC)")
        // Another container of the workload is free.
        try state.create(spec("side", port: 7000, container: "sidecar", client: "bob@desk"), clientSession: "bob", now: Self.t0)
    }

    @Test func aReplaceIsRefusedWhileAPortOfItsContainerIsIntercepted() throws {
        var state = EngagementState()
        try state.create(spec("mine", filter: try header("X-User=alice")), clientSession: "alice", now: Self.t0)
        let said = refusal { try state.create(spec("echo", kind: .replace, client: "bob@desk"), clientSession: "bob", now: Self.t0) }
        #expect(said == "container echo of deployment echo is already intercepted by alice@laptop (intercept mine: HTTP requests with header 'X-User: alice', since 14:02:11 UTC)")
    }

    @Test func wiretapsAndIngestsNeverConflict() throws {
        var state = EngagementState()
        try state.create(spec("echo"), clientSession: "alice", now: Self.t0)
        try state.create(spec("tap1", kind: .wiretap), clientSession: "bob", now: Self.t0)
        try state.create(spec("tap2", kind: .wiretap, filter: try header("X-User=x")), clientSession: "carol", now: Self.t0)
        try state.create(spec("ing", kind: .ingest), clientSession: "dave", now: Self.t0)
        #expect(state.intercepts.count == 4)
        // A wiretap and an ingest of a replaced container are still allowed.
        var replaced = EngagementState()
        try replaced.create(spec("echo", kind: .replace), clientSession: "alice", now: Self.t0)
        try replaced.create(spec("tap", kind: .wiretap), clientSession: "bob", now: Self.t0)
        try replaced.create(spec("ing", kind: .ingest), clientSession: "bob", now: Self.t0)
    }

    @Test func everyKindInWords() throws {
        let filter = try HTTPFilter.parse(headers: ["X-User=alice"], pathEqual: nil, pathPrefix: "/api", pathRegex: nil)
        #expect(EngagementRules.description(spec("a")) == "all TCP connections")
        #expect(EngagementRules.description(spec("a", filter: filter)) == "HTTP requests with path-prefix /api and header 'X-User: alice'")
        #expect(EngagementRules.description(spec("a", kind: .wiretap)) == "a copy of all TCP connections")
        #expect(EngagementRules.description(spec("a", kind: .wiretap, filter: filter)) == "a copy of HTTP requests with path-prefix /api and header 'X-User: alice'")
        #expect(EngagementRules.description(spec("a", kind: .replace)) == "replaced: ports 8080/TCP, 9000/TCP")
        #expect(EngagementRules.description(spec("a", kind: .ingest)) == "environment and mounts only")
    }

    @Test func anIngestIsActiveOnceAgentsArrivedWithoutAReview() throws {
        var state = EngagementState()
        let ingest = try state.create(spec("echo", kind: .ingest), clientSession: "alice", now: Self.t0)
        #expect(state.intercepts[ingest.id]?.disposition == .waiting)
        state.arrive(.init(sessionID: "agent:1", name: "echo", namespace: "default", kind: "Deployment", podName: "echo-1",
                           podIP: "10.244.0.9", tunnelPort: 9899, containers: [.init(name: "echo", environment: ["A": "1"], mounts: [])]))
        #expect(state.intercepts[ingest.id]?.disposition == .active)
        #expect(state.carriers(of: ingest.id).map(\.podName) == ["echo-1"])
    }

    @Test func anActiveReviewsMessageIsKeptAsTheNote() throws {
        var state = EngagementState()
        state.arrive(.init(sessionID: "agent:1", name: "echo", namespace: "default", kind: "Deployment", podName: "echo-1",
                           podIP: "10.244.0.9", tunnelPort: 9899, containers: []))
        let tap = try state.create(spec("tap", kind: .wiretap), clientSession: "alice", now: Self.t0)
        try state.review(agentSession: "agent:1", interceptID: tap.id, verdict: .active)
        #expect(state.intercepts[tap.id]?.note == "")
        try state.review(agentSession: "agent:1", interceptID: tap.id, verdict: .active, message: "a copy was cut: the client was too slow")
        try state.review(agentSession: "agent:1", interceptID: tap.id, verdict: .active)
        #expect(state.intercepts[tap.id]?.note == "a copy was cut: the client was too slow")
        #expect(state.intercepts[tap.id]?.disposition == .active)
    }
}
