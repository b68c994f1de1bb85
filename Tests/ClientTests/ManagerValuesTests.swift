import ClientSupport
import KubeClient
@testable import ManagerInstall
import Testing

@Suite struct ManagerValuesTests {
    @Test func setAssignmentsAreTypedAsHelmDoes() throws {
        var tree: JSONValue = [:]
        try ValueOverrides.apply("apiPort=9000,logLevel=debug", to: &tree)
        try ValueOverrides.apply("managerRbac.namespaced=true", to: &tree)
        try ValueOverrides.apply("managerRbac.namespaces={dev,staging}", to: &tree)
        try ValueOverrides.apply("image.imagePullSecrets[0].name=regcred", to: &tree)
        #expect(tree["apiPort"] == 9000)
        #expect(tree["logLevel"] == "debug")
        #expect(tree["managerRbac"]?["namespaced"] == true)
        #expect(tree["managerRbac"]?["namespaces"] == ["dev", "staging"])
        #expect(tree["image"]?["imagePullSecrets"]?[0]?["name"] == "regcred")
        #expect(throws: InstallError.self) { try ValueOverrides.apply("apiPort", to: &tree) }
    }

    @Test func filesThenSetsOverTheDefaults() throws {
        let values = try ManagerValues.resolve(
            files: [["logLevel": "debug", "image": ["registry": "registry.local/tp"]]],
            sets: ["logLevel=trace", "replicaCount=2"])
        #expect(values.logLevel == "trace")
        #expect(values.replicaCount == 2)
        #expect(values.image.reference == "registry.local/tp/traffic:\(ManagerValues.defaults.image.tag)")
        #expect(values.apiPort == 8081)
    }

    @Test func aTypoIsAnErrorThatListsTheKnownValues() {
        #expect {
            _ = try ManagerValues.resolve(files: [], sets: ["managerRbac.namespace=true"])
        } throws: { error in
            "\(error)".contains("no value managerRbac.namespace") && "\(error)".contains("managerRbac.namespaced")
        }
        #expect(throws: InstallError.self) { _ = try ManagerValues.resolve(files: [], sets: ["apiPort=http"]) }
        #expect(throws: InstallError.self) { _ = try ManagerValues.resolve(files: [], sets: ["managerRbac.namespaced=true"]) }
    }

    @Test func clusterWideInstallHasAClusterRole() throws {
        let objects = ManagerManifests(namespace: "ambassador", values: .defaults).objects(includeNamespace: true)
        let kinds = objects.compactMap { $0["kind"]?.stringValue }
        #expect(kinds == ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Service", "Service", "Deployment"])
        let deployment = try #require(objects.last)
        let container = try #require(deployment["spec"]?["template"]?["spec"]?["containers"]?[0])
        #expect(container["image"]?.stringValue == "ghcr.io/telepresence-swift/traffic:\(ManagerValues.defaults.image.tag)")
        #expect(container["readinessProbe"]?["tcpSocket"]?["port"] == "api")
        #expect(container["securityContext"]?["runAsNonRoot"] == true)
        let service = objects[4]
        #expect(service["spec"]?["clusterIP"] == "None")
        #expect(service["spec"]?["ports"]?[0]?["name"] == "api")
    }

    @Test func namespacedInstallCreatesNothingClusterScoped() throws {
        let values = try ManagerValues.resolve(files: [], sets: ["managerRbac.namespaced=true", "managerRbac.namespaces={dev,staging}"])
        let objects = ManagerManifests(namespace: "ambassador", values: values).objects(includeNamespace: false)
        let kinds = objects.compactMap { $0["kind"]?.stringValue }
        #expect(!kinds.contains("ClusterRole") && !kinds.contains("ClusterRoleBinding"))
        let roleNamespaces = objects.filter { $0["kind"] == "Role" }.compactMap { $0["metadata"]?["namespace"]?.stringValue }
        #expect(roleNamespaces == ["dev", "staging", "ambassador"])
        let env = objects.last?["spec"]?["template"]?["spec"]?["containers"]?[0]?["env"]?.arrayValue ?? []
        #expect(env.contains { $0["name"] == "MANAGED_NAMESPACES" && $0["value"] == "dev staging" })
    }

    @Test func configDurationsAndDefaults() {
        #expect(ClientConfig.duration("20s") == .seconds(20))
        #expect(ClientConfig.duration("1m") == .seconds(60))
        #expect(ClientConfig.duration("250ms") == .milliseconds(250))
        #expect(ClientConfig().defaultManagerNamespace == "ambassador")
    }
}
