import AgentConfig
import Foundation
import GRPCCore
import Logging
import NIOPosix
import RPC
import Testing
import TestSupport
@testable import TrafficAgent

@Suite("AgentSession: arrival, keepalive, reviews, re-arrival and departure against a manager")
struct AgentSessionTests {
    static func settings(managerPort: Int) throws -> AgentSettings {
        var config = testConfig(agentPort: try freePort(), containerPort: try freePort(), tunnelPort: 0, managerPort: managerPort)
        config.logLevel = "debug"
        let ready = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString)/ready").path
        return AgentSettings(config: config, podIP: "10.244.0.7", podName: "echo-7d9f-abcde", readyFile: ready,
                             environment: ["_TEL_APP_A_GREETING": "hello", "KUBERNETES_SERVICE_HOST": "10.96.0.1"])
    }

    static var timing: AgentSession.Timing {
        var timing = AgentSession.Timing()
        timing.remainInterval = .milliseconds(100)
        timing.callTimeout = .seconds(2)
        return timing
    }

    static func intercept(_ disposition: Telepresence_Manager_InterceptDispositionType, agentPort: Int) -> Telepresence_Manager_InterceptInfo {
        .with {
            $0.id = "client-1:echo"
            $0.clientSessionID = "client-1"
            $0.disposition = disposition
            $0.spec = .with {
                $0.name = "echo"
                $0.agent = "echo"
                $0.containerName = "app"
                $0.agentPort = Int32(agentPort)
                $0.protocol = "TCP"
                $0.targetHost = "127.0.0.1"
                $0.targetPort = 3000
            }
        }
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func arrivesKeepsTheSessionReviewsAndDeparts() async throws {
        let manager = TestManager()
        let port = try freePort()
        let (server, serving) = try await manager.serve(port: port)
        let settings = try Self.settings(managerPort: port)
        manager.closeGate()
        let agent = Task { try await AgentProcess.run(settings: settings, timing: Self.timing, logger: Logger(label: "test-agent")) }

        // Not ready before the arrival is answered.
        try await waitUntil("the agent to call ArriveAsAgent") { manager.pendingArrivals == 1 }
        #expect(!exists(settings.readyFile))
        manager.openGate()
        try await waitUntil("the ready file") { exists(settings.readyFile) }
        let info = try #require(manager.arrivals.first)
        #expect(info.name == "echo" && info.namespace == "default" && info.kind == "Deployment")
        #expect(info.podName == "echo-7d9f-abcde" && info.podIp == "10.244.0.7" && info.tunnelPort == 0)
        #expect(info.containers.first?.environment["GREETING"] == "hello")
        #expect(info.containers.first?.environment["TELEPRESENCE_CONTAINER"] == "app")

        try await waitUntil("Remain calls") { manager.remains >= 2 }

        // A new intercept is reviewed ACTIVE; one on a port it does not have, AGENT_ERROR.
        let agentPort = settings.config.containers[0].intercepts[0].agentPort
        var foreign = Self.intercept(.waiting, agentPort: 9999)
        foreign.id = "client-2:other"
        manager.publish([Self.intercept(.waiting, agentPort: agentPort), foreign])
        try await waitUntil("both reviews") { manager.reviews.count == 2 }
        let reviews = Dictionary(uniqueKeysWithValues: manager.reviews.map { ($0.interceptID, $0) })
        #expect(reviews["client-1:echo"]?.disposition == .active)
        #expect(reviews["client-2:other"]?.disposition == .agentError)
        #expect(reviews["client-2:other"]?.message.contains("9999") == true)
        #expect(reviews["client-1:echo"]?.session.sessionID.hasPrefix("agent:") == true)

        // A review the manager refuses (the intercept ended meanwhile) leaves the session alone.
        var gone = Self.intercept(.waiting, agentPort: agentPort)
        gone.id = "client-3:gone"
        manager.publish([Self.intercept(.waiting, agentPort: agentPort), foreign, gone],
                        known: [Self.intercept(.waiting, agentPort: agentPort), foreign])
        try await waitUntil("the review of the intercept that ended") { manager.reviews.contains { $0.interceptID == "client-3:gone" } }
        let remains = manager.remains
        try await waitUntil("Remain calls on the same session") { manager.remains >= remains + 2 }
        #expect(manager.arrivals.count == 1)

        // The manager forgets the session: the agent arrives again and reviews again.
        manager.forgetSessions()
        try await waitUntil("the second arrival") { manager.arrivals.count == 2 }
        try await waitUntil("the reviews of the new session") { manager.reviews.count == 5 }
        #expect(exists(settings.readyFile))

        // SIGTERM's cancellation: depart, remove the ready file, return promptly.
        agent.cancel()
        try await waitForEvent("the agent to stop", timeout: .seconds(10)) { try await agent.value }
        #expect(manager.departed.count == 1)
        #expect(!exists(settings.readyFile))
        await manager.stop(server, serving)
    }

    @Test func aManagerThatGoesAwayIsArrivedAtAgainWhenItIsBack() async throws {
        let manager = TestManager()
        let port = try freePort()
        var (server, serving) = try await manager.serve(port: port)
        let settings = try Self.settings(managerPort: port)
        let agent = Task { try await AgentProcess.run(settings: settings, timing: Self.timing, logger: Logger(label: "test-agent")) }
        try await waitUntil("the ready file") { exists(settings.readyFile) }

        await manager.stop(server, serving)
        try await waitUntil("the agent to turn unready") { !exists(settings.readyFile) }

        let second = TestManager()
        (server, serving) = try await second.serve(port: port)
        try await waitUntil("the arrival at the new manager", timeout: .seconds(15)) { second.arrivals.count == 1 }
        try await waitUntil("the ready file again") { exists(settings.readyFile) }
        agent.cancel()
        try await waitForEvent("the agent to stop", timeout: .seconds(10)) { try await agent.value }
        #expect(second.departed.count == 1)
        await second.stop(server, serving)
    }

    /// A wiretap copy cut by the data plane reaches the manager as ReviewIntercept ACTIVE with
    /// the message (the manager keeps it as the engagement's note); more cuts within the notice
    /// interval send nothing more.
    @Test func aCutCopyIsToldToTheManagerOnce() async throws {
        let manager = TestManager()
        let port = try freePort()
        let (server, serving) = try await manager.serve(port: port)
        let settings = try Self.settings(managerPort: port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let plane = try await AgentDataPlane.start(config: settings.config, loop: group.next(), host: "127.0.0.1")
        let session = try AgentSession(settings: settings, plane: plane, timing: Self.timing, logger: Logger(label: "test-agent"))
        let running = Task { await session.run() }
        try await waitUntil("the ready file") { exists(settings.readyFile) }

        let tap = HTTPUpstream.client(session: "client-1", engagementID: "client-1:tap", targetHost: "127.0.0.1", targetPort: 3000)
        try await plane.loop.submit {
            plane.copyCut(tap, reason: "its workstation read too slowly")
            plane.copyCut(tap, reason: "its workstation read too slowly")
        }.get()
        try await waitUntil("the notice") { manager.reviews.contains { $0.interceptID == "client-1:tap" } }
        let notices = manager.reviews.filter { $0.interceptID == "client-1:tap" }
        #expect(notices.count == 1)
        #expect(notices.first?.disposition == .active)
        #expect(notices.first?.message.contains("cut a copy") == true)

        running.cancel()
        await running.value
        await plane.close()
        await manager.stop(server, serving)
        try await group.shutdownGracefully()
    }
}
