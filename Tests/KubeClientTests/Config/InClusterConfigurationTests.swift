import Foundation
import PKI
import Testing
@testable import KubeClient

@Suite final class InClusterConfigurationTests {
    let scratch: ScratchDirectory
    var serviceAccount: String { scratch.path + "/serviceaccount" }

    init() throws {
        scratch = try ScratchDirectory()
    }

    private func environment(_ variables: [String: String]) -> ConfigurationEnvironment {
        scratch.environment(extra: variables, serviceAccountDirectory: serviceAccount)
    }

    @Test func readsServerTokenCAAndNamespaceFromThePod() async throws {
        let caPEM = try CertificateAuthority(commonName: "cluster-ca").certificatePEM
        try scratch.write("serviceaccount/token", "sa-token-1\n")
        try scratch.write("serviceaccount/ca.crt", caPEM)
        try scratch.write("serviceaccount/namespace", "team-x")
        let environment = environment(["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"])

        let configuration = try ClientConfigurationLoader.inCluster(environment: environment)
        #expect(configuration.server.description == "https://10.96.0.1:443")
        #expect(configuration.tls.certificateAuthorityPEM == Array(caPEM.utf8))
        #expect(configuration.namespace == "team-x")
        #expect(configuration.contextName == nil)
        #expect(try await configuration.credentials.credentials().authorization == "Bearer sa-token-1")

        // The projected token rotates; a 401 makes the client read it again.
        try scratch.write("serviceaccount/token", "sa-token-2\n")
        #expect(try await configuration.credentials.refreshAfterUnauthorized())
        #expect(try await configuration.credentials.credentials().authorization == "Bearer sa-token-2")
        #expect((configuration.credentials as? TokenFileCredentials)?.recheckInterval == .seconds(60))
    }

    @Test func podNamespaceVariableWinsAndIPv6IsBracketed() throws {
        try scratch.write("serviceaccount/token", "t")
        try scratch.write("serviceaccount/namespace", "from-file")
        let configuration = try ClientConfigurationLoader.inCluster(environment: environment([
            "KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443", "POD_NAMESPACE": "from-env",
        ]))
        #expect(configuration.server.description == "https://[fd00:10:96::1]:6443")
        #expect(configuration.namespace == "from-env")
        #expect(configuration.tls.certificateAuthorityPEM == nil)
    }

    @Test func namespaceDefaultsWhenNothingSaysOtherwise() throws {
        try scratch.write("serviceaccount/token", "t")
        let configuration = try ClientConfigurationLoader.inCluster(environment: environment([
            "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443",
        ]))
        #expect(configuration.namespace == "default")
    }

    @Test func outsideAPodTheErrorSaysWhy() throws {
        #expect(errorText({ _ = try ClientConfigurationLoader.inCluster(environment: environment([:])) })?
            .hasPrefix("cannot use the in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
            == true)
        let noToken = environment(["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        #expect(errorText({ _ = try ClientConfigurationLoader.inCluster(environment: noToken) })?
            .contains("\(serviceAccount)/token") == true)
        #expect(!ClientConfigurationLoader.inClusterAvailable(environment: noToken))
    }

    @Test func loadFallsBackToInClusterOnlyWithoutAKubeconfig() throws {
        try scratch.write("serviceaccount/token", "t")
        let podEnvironment = environment(["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        let fallback = try ClientConfigurationLoader.load(
            overrides: ConfigurationOverrides(namespace: "flag-ns"), environment: podEnvironment)
        #expect(fallback.server.host == "10.0.0.1")
        #expect(fallback.namespace == "flag-ns")

        try scratch.write(".kube/config", kubeconfigYAML(server: "https://from-kubeconfig:6443"))
        let fromFile = try ClientConfigurationLoader.load(environment: podEnvironment)
        #expect(fromFile.server.host == "from-kubeconfig")
    }
}
