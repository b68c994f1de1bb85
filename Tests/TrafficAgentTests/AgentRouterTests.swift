import AgentConfig
import HTTPRouting
import RPC
import Testing
@testable import TrafficAgent

@Suite("AgentRouter: which intercepts the agent carries and where each connection goes")
struct AgentRouterTests {
    let config = testConfig(agentPort: 9900, containerPort: 8080, tunnelPort: 9899, udp: (9901, 53))

    @Test func withoutInterceptsEveryConnectionGoesToTheApp() {
        let router = AgentRouter(config: config)
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))
        #expect(router.route(agentPort: 9901) == .app(containerPort: 53))
        #expect(router.route(agentPort: 1234) == .unknownPort)
        #expect(!router.mayClaim(session: "client-1"))
    }

    @Test func aNewInterceptIsReviewedOnceAndRoutedWhenActiveAndClaimed() {
        var router = AgentRouter(config: config)
        let waiting = assignment(state: .waiting, agentPort: 9900, targetPort: 3000)
        let first = router.apply(snapshot: [waiting])
        #expect(first.reviews == [InterceptReview(id: "client-1:echo", verdict: .active)])
        // Waiting: claims are accepted already, connections still go to the app.
        #expect(router.mayClaim(session: "client-1"))
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))
        // Claimed before the snapshot that says ACTIVE: the client holds it already.
        router.claimed(session: "client-1")
        #expect(router.route(agentPort: 9900) == .client(session: "client-1", interceptID: "client-1:echo", targetHost: "127.0.0.1", targetPort: 3000))
        router.unclaimed(session: "client-1")
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))

        let active = assignment(state: .active, agentPort: 9900, targetPort: 3000)
        #expect(router.apply(snapshot: [active]).reviews.isEmpty)
        #expect(router.route(agentPort: 9900) == .awaitClaim(session: "client-1", interceptID: "client-1:echo"))
        router.claimed(session: "client-1")
        #expect(router.route(agentPort: 9900) == .client(session: "client-1", interceptID: "client-1:echo", targetHost: "127.0.0.1", targetPort: 3000))
        router.unclaimed(session: "client-1")
        #expect(router.route(agentPort: 9900) == .awaitClaim(session: "client-1", interceptID: "client-1:echo"))
    }

    @Test func aRemovedInterceptSendsConnectionsToTheAppAgain() {
        var router = AgentRouter(config: config)
        _ = router.apply(snapshot: [assignment(agentPort: 9900, targetPort: 3000)])
        router.claimed(session: "client-1")
        let removal = router.apply(snapshot: [])
        #expect(removal.removed == ["client-1:echo"])
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))
        #expect(!router.mayClaim(session: "client-1"))
        // An ended disposition counts as removed too.
        _ = router.apply(snapshot: [assignment(agentPort: 9900, targetPort: 3000)])
        #expect(router.apply(snapshot: [assignment(state: .ended, agentPort: 9900, targetPort: 3000)]).removed == ["client-1:echo"])
    }

    /// `leave`, then `intercept` again: the same client and name make the same id, and the new
    /// intercept must be reviewed (else the client waits for a confirmation that never comes).
    @Test func anInterceptMadeAgainUnderTheSameIDIsReviewedAgain() {
        var router = AgentRouter(config: config)
        #expect(router.apply(snapshot: [assignment(state: .waiting, agentPort: 9900, targetPort: 3000)]).reviews.count == 1)
        #expect(router.apply(snapshot: []).reviews.isEmpty)
        let again = router.apply(snapshot: [assignment(state: .waiting, agentPort: 9900, targetPort: 3000)])
        #expect(again.reviews == [InterceptReview(id: "client-1:echo", verdict: .active)])
    }

    @Test func aPortOutsideTheConfigIsRefusedWithOneSentence() throws {
        var router = AgentRouter(config: config)
        let reviews = router.apply(snapshot: [assignment(agentPort: 9950, targetPort: 3000)]).reviews
        let review = try #require(reviews.first)
        guard case .agentError(let message) = review.verdict else {
            Issue.record("expected AGENT_ERROR, got \(review.verdict)")
            return
        }
        #expect(message.contains("9950") && message.contains("restarted"))
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))
        #expect(!router.mayClaim(session: "client-1"))
    }

    @Test func aUDPInterceptIsCarriedButNotAsTCP() {
        var router = AgentRouter(config: config)
        let reviews = router.apply(snapshot: [assignment(agentPort: 9901, protocol: "UDP", targetPort: 5353)]).reviews
        #expect(reviews == [InterceptReview(id: "client-1:echo", verdict: .active)])
        var other = AgentRouter(config: config)
        let wrong = other.apply(snapshot: [assignment(agentPort: 9901, protocol: "TCP", targetPort: 5353)]).reviews
        if case .agentError(let message) = wrong.first?.verdict { #expect(message.contains("UDP")) } else { Issue.record("TCP on a UDP port was accepted") }
    }

    @Test func aNewSessionReviewsEveryInterceptAgain() {
        var router = AgentRouter(config: config)
        let snapshot = [assignment(agentPort: 9900, targetPort: 3000)]
        #expect(router.apply(snapshot: snapshot).reviews.count == 1)
        #expect(router.apply(snapshot: snapshot).reviews.isEmpty)
        router.sessionRestarted()
        // What it carries stays until the new session's first snapshot.
        #expect(router.mayClaim(session: "client-1"))
        #expect(router.apply(snapshot: snapshot).reviews.count == 1)
    }

    @Test func onlyTheHoldersSessionMayClaim() {
        var router = AgentRouter(config: config)
        _ = router.apply(snapshot: [assignment(agentPort: 9900, targetPort: 3000)])
        #expect(router.mayClaim(session: "client-1"))
        #expect(!router.mayClaim(session: "client-2"))
    }
}

@Suite("AgentRouter: engagements of every kind, per connection and per request")
struct EngagementRoutingTests {
    let config = testConfig(agentPort: 9900, containerPort: 8080, tunnelPort: 9899, udp: (9901, 53))

    func engagement(_ id: String, session: String, kind: EngagementKind = .intercept, filter: HTTPFilter? = nil,
                    agentPort: Int = 9900, protocol: String = "TCP", targetPort: Int) -> InterceptAssignment {
        InterceptAssignment(id: id, clientSession: session, state: .active, containerName: "app", agentPort: agentPort,
                            protocol: `protocol`, targetHost: "127.0.0.1", targetPort: targetPort, kind: kind, filter: filter)
    }

    func request(_ path: String, _ headers: [(String, String)] = []) -> HTTPRequestSummary {
        HTTPRequestSummary(method: "GET", path: path, headers: headers.map { (name: $0.0, value: $0.1) })
    }

    @Test func filteredInterceptsTakeTheirRequestsAndTheAppTheRest() {
        var router = AgentRouter(config: config)
        let alice = HTTPFilter(headers: [.init(name: "X-User", value: "alice")])
        let bob = HTTPFilter(headers: [.init(name: "X-User", value: "bob")])
        let reviews = router.apply(snapshot: [
            engagement("a:alice", session: "a", filter: alice, targetPort: 3001),
            engagement("b:bob", session: "b", filter: bob, targetPort: 3002),
        ]).reviews
        #expect(reviews.allSatisfy { $0.verdict == .active })
        #expect(router.needsHTTP(agentPort: 9900))
        router.claimed(session: "a")
        router.claimed(session: "b")
        #expect(router.route(agentPort: 9900, request: request("/", [("x-user", "alice")])).answer
            == .client(session: "a", engagementID: "a:alice", targetHost: "127.0.0.1", targetPort: 3001))
        #expect(router.route(agentPort: 9900, request: request("/", [("X-USER", "bob")])).answer
            == .client(session: "b", engagementID: "b:bob", targetHost: "127.0.0.1", targetPort: 3002))
        #expect(router.route(agentPort: 9900, request: request("/", [("x-user", "carol")])).answer == .app(containerPort: 8080))
        // A whole connection (not HTTP) goes to the app: no filter takes it.
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))
    }

    @Test func wiretapsGetCopiesAndNeverAnswer() {
        var router = AgentRouter(config: config)
        let api = HTTPFilter(pathPrefix: "/api")
        _ = router.apply(snapshot: [
            engagement("w:all", session: "w", kind: .wiretap, targetPort: 4000),
            engagement("v:api", session: "v", kind: .wiretap, filter: api, targetPort: 4001),
        ])
        router.claimed(session: "w")
        router.claimed(session: "v")
        let all = HTTPUpstream.client(session: "w", engagementID: "w:all", targetHost: "127.0.0.1", targetPort: 4000)
        let apiCopy = HTTPUpstream.client(session: "v", engagementID: "v:api", targetHost: "127.0.0.1", targetPort: 4001)
        #expect(router.route(agentPort: 9900, request: request("/api/x")) == HTTPRequestRoute(answer: .app(containerPort: 8080), copies: [all, apiCopy]))
        #expect(router.route(agentPort: 9900, request: request("/web")) == HTTPRequestRoute(answer: .app(containerPort: 8080), copies: [all]))
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))
        #expect(router.connectionCopies(agentPort: 9900) == [all])
        // Only the filtered wiretap needs HTTP reading; alone, the unfiltered one copies bytes.
        #expect(router.needsHTTP(agentPort: 9900))
        _ = router.apply(snapshot: [engagement("w:all", session: "w", kind: .wiretap, targetPort: 4000)])
        #expect(!router.needsHTTP(agentPort: 9900))
    }

    @Test func anUnfilteredInterceptTakesEveryRequestAWiretapStillCopies() {
        var router = AgentRouter(config: config)
        _ = router.apply(snapshot: [
            engagement("a:all", session: "a", targetPort: 3000),
            engagement("w:api", session: "w", kind: .wiretap, filter: HTTPFilter(pathPrefix: "/api"), targetPort: 4000),
        ])
        router.claimed(session: "a")
        router.claimed(session: "w")
        let route = router.route(agentPort: 9900, request: request("/api"))
        #expect(route.answer == .client(session: "a", engagementID: "a:all", targetHost: "127.0.0.1", targetPort: 3000))
        #expect(route.copies == [.client(session: "w", engagementID: "w:api", targetHost: "127.0.0.1", targetPort: 4000)])
    }

    @Test func unfitEngagementsAreRefusedInOneSentence() {
        var router = AgentRouter(config: config)
        let reviews = router.apply(snapshot: [
            engagement("a:udp", session: "a", filter: HTTPFilter(pathPrefix: "/"), agentPort: 9901, protocol: "UDP", targetPort: 53),
            engagement("b:tap", session: "b", kind: .wiretap, agentPort: 9901, protocol: "UDP", targetPort: 53),
            engagement("c:ingest", session: "c", kind: .ingest, agentPort: 0, protocol: "", targetPort: 0),
        ]).reviews
        #expect(reviews[0].verdict == .agentError("HTTP filters need a TCP port that speaks HTTP; port 53/UDP does not"))
        guard case .agentError(let tap) = reviews[1].verdict else {
            Issue.record("a UDP wiretap was accepted")
            return
        }
        #expect(tap.contains("53/UDP"))
        // An ingest moves nothing, and its client may claim a tunnel.
        #expect(reviews[2].verdict == .active)
        #expect(router.mayClaim(session: "c"))
        #expect(router.route(agentPort: 9900) == .app(containerPort: 8080))
    }

    @Test func aReplacedPortHasNoAppWithoutItsReplace() {
        var config = testConfig(agentPort: 8080, containerPort: 8080, tunnelPort: 9899)
        config.containers[0].replace = true
        var router = AgentRouter(config: config)
        #expect(router.route(agentPort: 8080) == .noApp)
        let replace = InterceptAssignment(
            id: "r:app", clientSession: "r", state: .active, containerName: "app", agentPort: 0, protocol: "",
            targetHost: "127.0.0.1", targetPort: 0, kind: .replace,
            replacedPorts: [.init(agentPort: 8080, protocol: "TCP", targetPort: 5000)])
        #expect(router.apply(snapshot: [replace]).reviews == [InterceptReview(id: "r:app", verdict: .active)])
        // Not claimed yet: the connection waits for the claim (there is no app to fall back on).
        #expect(router.route(agentPort: 8080) == .awaitClaim(session: "r", interceptID: "r:app"))
        router.claimed(session: "r")
        #expect(router.route(agentPort: 8080) == .client(session: "r", interceptID: "r:app", targetHost: "127.0.0.1", targetPort: 5000))
        var missing = replace
        missing.replacedPorts = [.init(agentPort: 9999, protocol: "TCP", targetPort: 5000)]
        var other = AgentRouter(config: config)
        if case .agentError(let message) = other.apply(snapshot: [missing]).reviews.first?.verdict {
            #expect(message.contains("9999"))
        } else {
            Issue.record("a replace of a port the agent does not have was accepted")
        }
    }
}
