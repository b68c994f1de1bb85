import AgentConfig
import Foundation
import Testing
@testable import TrafficAgent

@Suite("AgentSettings: the config, the pod, and the env the agent reports")
struct AgentSettingsTests {
    @Test func theContainersEnvironmentIsTheAppsAsKubernetesResolvedIt() {
        let config = testConfig(agentPort: 9900, containerPort: 8080, tunnelPort: 9899)
        let env = [
            "_TEL_APP_A_GREETING": "hello",
            "_TEL_APP_A_DATABASE_URL": "postgres://db",
            "_TEL_APP_B_OTHER": "not this container's",
            "ECHO_SERVICE_HOST": "10.96.0.12",
            "ECHO_SERVICE_PORT": "80",
            "ECHO_SERVICE_PORT_HTTP": "80",
            "ECHO_PORT": "tcp://10.96.0.12:80",
            "ECHO_PORT_80_TCP": "tcp://10.96.0.12:80",
            "ECHO_PORT_80_TCP_PROTO": "tcp",
            "ECHO_PORT_80_TCP_PORT": "80",
            "ECHO_PORT_80_TCP_ADDR": "10.96.0.12",
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "PATH": "/usr/bin",
            "HTTP_PORT": "8080",
            "_TEL_AGENT_POD_IP": "10.244.0.7",
        ]
        let settings = AgentSettings(config: config, podIP: "10.244.0.7", podName: "echo-abc", environment: env)
        let info = settings.agentInfo
        #expect(info.name == "echo" && info.namespace == "default" && info.kind == "Deployment")
        #expect(info.podName == "echo-abc" && info.podIp == "10.244.0.7" && info.tunnelPort == 9899)
        #expect(info.product == "traffic-agent" && !info.version.isEmpty)
        let container = info.containers[0]
        #expect(container.name == "app" && container.mounts == ["/data"])
        #expect(container.environment == [
            "GREETING": "hello", "DATABASE_URL": "postgres://db",
            "ECHO_SERVICE_HOST": "10.96.0.12", "ECHO_SERVICE_PORT": "80", "ECHO_SERVICE_PORT_HTTP": "80",
            "ECHO_PORT": "tcp://10.96.0.12:80", "ECHO_PORT_80_TCP": "tcp://10.96.0.12:80",
            "ECHO_PORT_80_TCP_PROTO": "tcp", "ECHO_PORT_80_TCP_PORT": "80", "ECHO_PORT_80_TCP_ADDR": "10.96.0.12",
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "TELEPRESENCE_CONTAINER": "app", "TELEPRESENCE_MOUNTS": "/data",
        ])
    }

    @Test func theConfigAndPodComeFromTheEnvironment() throws {
        let config = testConfig(agentPort: 9900, containerPort: 8080, tunnelPort: 9899)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-config-\(UUID().uuidString).yaml").path
        try config.encoded().write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let settings = try AgentSettings.load(environment: [
            "AGENT_CONFIG": path, "_TEL_AGENT_POD_IP": "10.244.0.7", "_TEL_AGENT_NAME": "echo-abc", "AGENT_READY_FILE": "/tmp/x/ready",
        ])
        #expect(settings.config == config && settings.podIP == "10.244.0.7" && settings.podName == "echo-abc" && settings.readyFile == "/tmp/x/ready")
    }

    @Test func anUnreadableConfigSaysSoInOneLine() throws {
        #expect(throws: AgentSettingsError.self) { try AgentSettings.load(environment: ["AGENT_CONFIG": "/nonexistent/config.yaml"]) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-bad-\(UUID().uuidString).yaml").path
        try "{ not json".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try AgentSettings.load(environment: ["AGENT_CONFIG": path])
            Issue.record("a malformed config was accepted")
        } catch {
            #expect("\(error)".contains(path))
            #expect(!"\(error)".contains("\n"))
        }
    }
}
