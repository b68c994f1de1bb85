import AgentConfig
import Foundation
import Testing
import TestSupport
@testable import TrafficAgent

#if canImport(Glibc)
import Glibc
#endif

@Suite("`traffic agent` as the pod runs it")
struct TrafficCommandTests {
    @Test func anUnreadableConfigIsOneLineAndExit1() async throws {
        let output = try await CommandRunner.run(
            "traffic", ["agent"], environment: ["AGENT_CONFIG": "/nonexistent/traffic-agent/config.yaml"], timeout: .seconds(30))
        #expect(output.status == 1)
        let lines = output.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(output.stderr)")
        #expect(output.stderr.contains("/nonexistent/traffic-agent/config.yaml") && output.stderr.contains(AgentNames.configMap))
    }

    @Test func sigtermDepartsAndEndsPromptly() async throws {
        let manager = TestManager()
        let port = try freePort()
        let (server, serving) = try await manager.serve(port: port)
        let config = testConfig(agentPort: try freePort(), containerPort: try freePort(), tunnelPort: try freePort(), managerPort: port)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("traffic-agent-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configPath = directory.appendingPathComponent("config.yaml").path
        let ready = directory.appendingPathComponent("agent/ready").path
        try config.encoded().write(toFile: configPath, atomically: true, encoding: .utf8)

        let agent = try ProcessRunner.start(
            [CommandRunner.executable("traffic").path, "agent"],
            environment: ["AGENT_CONFIG": configPath, "AGENT_READY_FILE": ready, "_TEL_AGENT_POD_IP": "10.244.0.9", "_TEL_AGENT_NAME": "echo-1"],
            captureOutput: true)
        do {
            try await waitUntil("the agent to arrive and turn ready", timeout: .seconds(20)) {
                manager.arrivals.count == 1 && FileManager.default.fileExists(atPath: ready)
            }
            #expect(manager.arrivals.first?.podIp == "10.244.0.9" && manager.arrivals.first?.podName == "echo-1")
            _ = kill(agent.pid, SIGTERM)
            // Well within a pod's termination grace period (30 s), on a busy machine too.
            try await waitUntil("the agent to end on SIGTERM", timeout: .seconds(10)) { !agent.isRunning }
        } catch {
            await agent.stop()
            await manager.stop(server, serving)
            throw error
        }
        #expect(manager.departed.count == 1)
        #expect(!FileManager.default.fileExists(atPath: ready))
        #expect(agent.output.contains("traffic-agent exiting"), "\(agent.output)")
        await manager.stop(server, serving)
    }
}
