import Testing
@testable import TrafficManager

@Suite struct ClusterFactsTests {
    @Test func serviceSubnetFromTheAPIsRefusal() {
        let message = #"Service "probe" is invalid: spec.clusterIPs: Invalid value: []string{"192.0.2.255"}: failed to allocate IP 192.0.2.255: the provided IP (192.0.2.255) is not in the valid range. The range of valid IPs is 10.96.0.0/12"#
        #expect(ServiceSubnetProbe.subnet(fromErrorMessage: message)?.description == "10.96.0.0/12")
        let dual = "... The range of valid IPs is 10.43.0.0/16,fd00::/108"
        #expect(ServiceSubnetProbe.subnet(fromErrorMessage: dual)?.description == "10.43.0.0/16")
        #expect(ServiceSubnetProbe.subnet(fromErrorMessage: "forbidden") == nil)
    }

    @Test func podIPsAreCoveredBySixteenBitSubnets() {
        let subnets = PodSubnetCoverage.cover(["10.244.1.7", "10.244.200.3", "10.45.0.1", "not-an-ip", "fd00:1::5"])
        #expect(subnets.map(\.description) == ["10.45.0.0/16", "10.244.0.0/16", "fd00:1::/64"])
    }

    @Test func nodeCIDRsInsideAnotherAreMerged() {
        let subnets = PodSubnetCoverage.fromNodes(["10.244.0.0/24", "10.244.1.0/24", "10.244.0.0/16", "10.245.0.0/24"])
        #expect(subnets.map(\.description) == ["10.244.0.0/16", "10.245.0.0/24"])
    }

    @Test func settingsFromTheDeploymentsEnvironment() throws {
        let settings = try ManagerSettings.fromEnvironment([
            "MANAGER_NAMESPACE": "tm", "SERVER_PORT": "9000", "CLIENT_SESSION_TTL": "45s",
            "MANAGED_NAMESPACES": "a b", "POD_CIDR_STRATEGY": "environment", "POD_CIDRS": "10.1.0.0/16",
        ])
        #expect(settings.namespace == "tm")
        #expect(settings.serverPort == 9000)
        #expect(settings.clientSessionTTL == .seconds(45))
        #expect(settings.managedNamespaces == ["a", "b"])
        #expect(settings.podCIDRs == ["10.1.0.0/16"])
        #expect(throws: SettingsError.self) { try ManagerSettings.fromEnvironment(["SERVER_PORT": "http"]) }
        #expect(throws: SettingsError.self) { try ManagerSettings.fromEnvironment(["POD_CIDR_STRATEGY": "guess"]) }
    }

    @Test func agentArrivalTimeoutFromTheChartsValue() throws {
        #expect(try ManagerSettings.fromEnvironment([:]).agentArrivalTimeout == .seconds(30))
        #expect(try ManagerSettings.fromEnvironment(["AGENT_ARRIVAL_TIMEOUT": "45s"]).agentArrivalTimeout == .seconds(45))
        #expect(try ManagerSettings.fromEnvironment(["AGENT_ARRIVAL_TIMEOUT": "2m"]).agentArrivalTimeout == .seconds(120))
        #expect(throws: SettingsError.self) { try ManagerSettings.fromEnvironment(["AGENT_ARRIVAL_TIMEOUT": "soon"]) }
        #expect(try ManagerSettings.fromEnvironment(["AGENT_IMAGE": "registry.local/traffic:1"]).agentImage == "registry.local/traffic:1")
    }
}
