import Foundation
import RPC
import Testing
@testable import TrafficManager

/// The engagement state machine without sockets or clocks: conflicts, dispositions, cleanup and
/// snapshots.
@Suite struct EngagementStateTests {
    /// 14:02:11 UTC.
    static let t0 = Date(timeIntervalSince1970: 14 * 3600 + 2 * 60 + 11)

    func spec(_ name: String, workload: String = "echo", port: Int32 = 8080, client: String = "alice@laptop", proto: String = "TCP") -> Telepresence_Manager_InterceptSpec {
        .with {
            $0.name = name
            $0.agent = workload
            $0.namespace = "default"
            $0.workloadKind = "Deployment"
            $0.client = client
            $0.containerName = "echo"
            $0.containerPort = port
            $0.protocol = proto
        }
    }

    func agent(_ session: String, pod: String, workload: String = "echo", namespace: String = "default") -> EngagementState.Agent {
        .init(sessionID: session, name: workload, namespace: namespace, kind: "Deployment", podName: pod, podIP: "10.244.0.9",
              tunnelPort: 9899, containers: [.init(name: "echo", environment: ["A": "1"], mounts: [])])
    }

    @Test func aPortAnotherClientHoldsIsRefusedWithWhoAndSinceWhen() throws {
        var state = EngagementState()
        try state.create(spec("echo"), clientSession: "alice", now: Self.t0)
        #expect(throws: EngagementError.self) { try state.create(spec("mine", client: "bob@desk"), clientSession: "bob", now: Self.t0) }
        do {
            try state.create(spec("mine", client: "bob@desk"), clientSession: "bob", now: Self.t0)
        } catch {
            #expect(error.description == "port 8080 of deployment echo is already intercepted by alice@laptop (intercept echo: all TCP connections, since 14:02:11 UTC)")
        }
        // Another port of the same workload, and the same port over UDP, are free.
        try state.create(spec("other", port: 9000, client: "bob@desk"), clientSession: "bob", now: Self.t0)
        try state.create(spec("udp", client: "bob@desk", proto: "UDP"), clientSession: "bob", now: Self.t0)
        #expect(state.intercepts.count == 3)
    }

    @Test func theSameNameTwiceByOneClientIsRefused() throws {
        var state = EngagementState()
        try state.create(spec("echo"), clientSession: "alice", now: Self.t0)
        #expect(throws: EngagementError.duplicateName(name: "echo", kind: "intercept", holding: "port 8080 of deployment echo")) {
            try state.create(spec("echo", port: 9000), clientSession: "alice", now: Self.t0)
        }
        // Another client may use the same name for another port.
        try state.create(spec("echo", port: 9000, client: "bob@desk"), clientSession: "bob", now: Self.t0)
        #expect(Set(state.intercepts.keys) == ["alice:echo", "bob:echo"])
    }

    @Test func waitingUntilEveryArrivedAgentConfirms() throws {
        var state = EngagementState()
        state.arrive(agent("agent:1", pod: "echo-1"))
        state.arrive(agent("agent:2", pod: "echo-2"))
        state.arrive(agent("agent:x", pod: "other-1", workload: "other"))
        try state.create(spec("echo"), clientSession: "alice", now: Self.t0)
        #expect(state.intercepts["alice:echo"]?.disposition == .waiting)
        try state.review(agentSession: "agent:1", interceptID: "alice:echo", verdict: .active)
        #expect(state.intercepts["alice:echo"]?.disposition == .waiting)
        #expect(state.carriers(of: "alice:echo").map(\.podName) == ["echo-1"])
        try state.review(agentSession: "agent:2", interceptID: "alice:echo", verdict: .active)
        #expect(state.intercepts["alice:echo"]?.disposition == .active)
        #expect(state.carriers(of: "alice:echo").map(\.podName) == ["echo-1", "echo-2"])
        // An agent of another workload may not review it.
        #expect(throws: EngagementError.notAgentsIntercept(interceptID: "alice:echo", agent: "other")) {
            try state.review(agentSession: "agent:x", interceptID: "alice:echo", verdict: .active)
        }
        // A new pod's agent (a rolling update) does not take an active intercept back to waiting.
        state.arrive(agent("agent:3", pod: "echo-3"))
        #expect(state.intercepts["alice:echo"]?.disposition == .active)
    }

    @Test func anAgentErrorCarriesTheAgentsMessageAndGoesWithItsAgent() throws {
        var state = EngagementState()
        state.arrive(agent("agent:1", pod: "echo-1"))
        try state.create(spec("echo"), clientSession: "alice", now: Self.t0)
        try state.review(agentSession: "agent:1", interceptID: "alice:echo", verdict: .error("port 8080 is not in my config"))
        #expect(state.intercepts["alice:echo"]?.disposition == .agentError("port 8080 is not in my config"))
        state.sessionEnded("agent:1")
        #expect(state.agents.isEmpty)
        #expect(state.intercepts["alice:echo"]?.disposition == .waiting)
        #expect(throws: EngagementError.unknownAgent("agent:1")) {
            try state.review(agentSession: "agent:1", interceptID: "alice:echo", verdict: .active)
        }
    }

    @Test func aClientThatDepartsOrExpiresTakesItsInterceptsAlong() throws {
        var state = EngagementState()
        state.arrive(agent("agent:1", pod: "echo-1"))
        try state.create(spec("echo"), clientSession: "alice", now: Self.t0)
        try state.create(spec("other", workload: "other"), clientSession: "alice", now: Self.t0)
        try state.create(spec("bobs", port: 9000, client: "bob@desk"), clientSession: "bob", now: Self.t0)
        #expect(state.snapshot(for: "agent:1").map(\.id) == ["alice:echo", "bob:bobs"])
        let ended = state.sessionEnded("alice")
        #expect(ended.map(\.id) == ["alice:echo", "alice:other"])
        #expect(state.snapshot(for: "agent:1").map(\.id) == ["bob:bobs"])
        #expect(state.snapshot(for: "alice").isEmpty)
        // The port is free again.
        try state.create(spec("echo", client: "carol@box"), clientSession: "carol", now: Self.t0)
    }

    @Test func snapshotsPerClientAndPerAgent() throws {
        var state = EngagementState()
        state.arrive(agent("agent:1", pod: "echo-1"))
        state.arrive(agent("agent:o", pod: "echo-1", namespace: "other"))
        try state.create(spec("a"), clientSession: "alice", now: Self.t0)
        try state.create(spec("b", port: 9000, client: "bob@desk"), clientSession: "bob", now: Self.t0)
        #expect(state.snapshot(for: "alice").map(\.id) == ["alice:a"])
        #expect(state.snapshot(for: "bob").map(\.id) == ["bob:b"])
        #expect(state.snapshot(for: "agent:1").map(\.id) == ["alice:a", "bob:b"])
        // The same workload name in another namespace is another workload.
        #expect(state.snapshot(for: "agent:o").isEmpty)
        #expect(state.snapshot(for: "agent:unknown").isEmpty)
        try state.remove(clientSession: "alice", name: "a")
        #expect(state.snapshot(for: "agent:1").map(\.id) == ["bob:b"])
        #expect(throws: EngagementError.unknownIntercept(name: "a")) { try state.remove(clientSession: "alice", name: "a") }
        #expect(state.removeIntercepts(of: .init(namespace: "default", name: "echo")).map(\.id) == ["bob:b"])
        #expect(state.intercepts.isEmpty)
    }

    @Test func sessionsOfAgentsExpireInTheRegistryLikeClients() {
        var registry = SessionRegistry(ttl: .seconds(1))
        let start = ContinuousClock.now
        let id = registry.arrive(.init(name: "echo-1", installID: "", namespace: "default", mappedNamespaces: [], version: "1"), now: start, makeID: { "agent:1" })
        #expect(EngagementState.isAgentSession(id))
        #expect(registry.expire(now: start + .seconds(2)).map(\.id) == ["agent:1"])
    }

    @Test func anAgentThatArrivesAgainReplacesItsEarlierSession() throws {
        var state = EngagementState()
        state.arrive(agent("agent:1", pod: "echo-1"))
        try state.create(spec("echo"), clientSession: "alice", now: Self.t0)
        try state.review(agentSession: "agent:1", interceptID: "alice:echo", verdict: .active)
        // The agent lost its connection and arrived again before its old session expired.
        state.arrive(agent("agent:1b", pod: "echo-1"))
        #expect(Set(state.agents.keys) == ["agent:1b"])
        #expect(state.snapshot(for: "agent:1b").map(\.id) == ["alice:echo"])
        #expect(state.carriers(of: "alice:echo").isEmpty)  // until it reviews again
        try state.review(agentSession: "agent:1b", interceptID: "alice:echo", verdict: .active)
        #expect(state.carriers(of: "alice:echo").map(\.sessionID) == ["agent:1b"])
        #expect(state.intercepts["alice:echo"]?.disposition == .active)
    }
}
