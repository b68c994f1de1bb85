import AgentConfig
import Testing

@Suite("The agent config the manager writes and the agent reads")
struct AgentConfigTests {
    @Test func envPrefixesCountInBase26LikeTelepresence() {
        #expect(AgentNames.envPrefix(index: 0) == "A_")
        #expect(AgentNames.envPrefix(index: 25) == "Z_")
        #expect(AgentNames.envPrefix(index: 26) == "BA_")
    }

    @Test func aConfigRoundTripsAndEncodesStably() throws {
        let config = AgentConfig(
            agentName: "web", namespace: "shop", workloadName: "web", workloadKind: "Deployment",
            agentImage: "ghcr.io/telepresence-swift/traffic:0.1.0", managerHost: "traffic-manager.ambassador",
            containers: [.init(name: "app", envPrefix: "A_", mountPoint: "/tel_app_mounts/app", mounts: ["/data"], intercepts: [
                .init(serviceName: "web", serviceUID: "u1", servicePortName: "http", servicePort: 80, protocol: "TCP",
                      targetPortNumeric: false, containerPortName: "http", containerPort: 8080, agentPort: 9900),
                .init(serviceName: "web", serviceUID: "u1", servicePortName: "", servicePort: 9000, protocol: "TCP",
                      targetPortNumeric: true, containerPortName: "", containerPort: 9000, agentPort: 9901),
            ])])
        let text = try config.encoded()
        #expect(try AgentConfig.decode(text) == config)
        #expect(try config.encoded() == text)
        #expect(config.needsInitContainer)
        #expect(text.contains("\"workloadKind\" : \"Deployment\""))
    }

    @Test func aMalformedConfigSaysSo() {
        #expect(throws: AgentConfigError.self) { try AgentConfig.decode("{\"agentName\": 3}") }
    }
}
