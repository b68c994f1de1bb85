import AgentConfig
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
