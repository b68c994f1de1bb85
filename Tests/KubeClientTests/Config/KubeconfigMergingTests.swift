import Foundation
import Testing
@testable import KubeClient

@Suite final class KubeconfigMergingTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    private func writeTwoFiles() throws -> (String, String) {
        let a = try scratch.write("a.yaml", """
            clusters:
            - name: shared
              cluster: {server: https://a.example:6443}
            users:
            - name: shared-user
              user: {token: from-a}
            contexts:
            - name: shared-ctx
              context: {cluster: shared, user: shared-user, namespace: ns-a}
            """)
        let b = try scratch.write("b.yaml", """
            clusters:
            - name: shared
              cluster: {server: https://b.example:6443, tls-server-name: only-in-b}
            - name: b-only
              cluster: {server: https://b-only.example}
            users:
            - name: shared-user
              user: {username: admin, password: pw}
            contexts:
            - name: b-ctx
              context: {cluster: b-only, user: shared-user}
            current-context: b-ctx
            """)
        return (a, b)
    }

    @Test func firstFileDefiningANameWinsForTheWholeEntry() throws {
        let (a, b) = try writeTwoFiles()
        let config = try KubeconfigLoader.load(explicitFile: nil, environment: scratch.environment(kubeconfig: "\(a):\(b)"))
        #expect(config.files == [a, b])
        let shared = try #require(config.cluster(named: "shared"))
        #expect(shared.file == a)
        #expect(shared.value.server == "https://a.example:6443")
        // No field-level merge: b's tls-server-name for the same name is dropped.
        #expect(shared.value.tlsServerName == nil)
        #expect(config.cluster(named: "b-only")?.file == b)
        let user = try #require(config.user(named: "shared-user")).value
        #expect(user.token == "from-a" && user.username == nil)
        #expect(config.contexts.map(\.name) == ["shared-ctx", "b-ctx"])
    }

    @Test func firstFileSettingCurrentContextWins() throws {
        let (a, b) = try writeTwoFiles()
        let c = try scratch.write("c.yaml", "current-context: shared-ctx\n")
        // a sets none, so b's is used even though c comes later and sets another.
        let config = try KubeconfigLoader.load(explicitFile: nil, environment: scratch.environment(kubeconfig: "\(a):\(b):\(c)"))
        #expect(config.currentContext == "b-ctx")
        #expect(config.currentContextFile == b)
        let reversed = try KubeconfigLoader.load(explicitFile: nil, environment: scratch.environment(kubeconfig: "\(c):\(b)"))
        #expect(reversed.currentContext == "shared-ctx")
    }

    @Test func missingFilesAreSkippedAndDuplicatesReadOnce() throws {
        let (a, _) = try writeTwoFiles()
        let missing = scratch.path + "/missing.yaml"
        let environment = scratch.environment(kubeconfig: "\(missing)::\(a):\(a)")
        #expect(KubeconfigLoader.searchPaths(environment: environment) == [missing, a])
        let config = try KubeconfigLoader.load(explicitFile: nil, environment: environment)
        #expect(config.files == [a])
        let resolved = try ClientConfigurationLoader.load(
            overrides: ConfigurationOverrides(context: "shared-ctx"), environment: environment)
        #expect(resolved.server.host == "a.example")
        #expect(resolved.namespace == "ns-a")
    }

    @Test func relativeKubeconfigEntriesResolveAgainstTheWorkingDirectory() throws {
        let (_, b) = try writeTwoFiles()
        let config = try KubeconfigLoader.load(explicitFile: nil, environment: scratch.environment(kubeconfig: "b.yaml"))
        #expect(config.files == [b])
    }

    @Test func allFilesMissingGivesAClearNoConfigurationError() throws {
        let environment = scratch.environment(kubeconfig: scratch.path + "/x:" + scratch.path + "/y")
        let config = try KubeconfigLoader.load(explicitFile: nil, environment: environment)
        #expect(config.isEmpty)
        let text = errorText({ _ = try ClientConfigurationLoader.load(environment: environment) })
        #expect(text?.hasPrefix("no Kubernetes configuration found (looked in \(scratch.path)/x, \(scratch.path)/y)") == true)
    }

    @Test func withoutKUBECONFIGTheHomeConfigIsUsed() throws {
        try scratch.write(".kube/config", kubeconfigYAML(server: "https://home.example:6443"))
        let configuration = try ClientConfigurationLoader.load(environment: scratch.environment())
        #expect(configuration.server.host == "home.example")
        #expect(configuration.contextName == "ctx")

        let empty = try ScratchDirectory()
        let text = errorText({ _ = try ClientConfigurationLoader.load(environment: empty.environment()) })
        #expect(text?.contains("looked in \(empty.path)/.kube/config") == true)
    }

    @Test func explicitKubeconfigLoadsOnlyThatFile() throws {
        let (a, b) = try writeTwoFiles()
        let environment = scratch.environment(kubeconfig: a)
        let config = try KubeconfigLoader.load(explicitFile: b, environment: environment)
        #expect(config.files == [b])
        #expect(config.cluster(named: "shared")?.value.server == "https://b.example:6443")
        let configuration = try ClientConfigurationLoader.load(
            overrides: ConfigurationOverrides(kubeconfig: "b.yaml"), environment: environment)
        #expect(configuration.server.host == "b-only.example")
    }

    @Test func explicitKubeconfigThatIsMissingIsAnError() throws {
        let missing = scratch.path + "/nope.yaml"
        #expect(errorText({ _ = try KubeconfigLoader.load(explicitFile: missing, environment: scratch.environment()) })
            == "cannot read kubeconfig \(missing): the file does not exist; check the --kubeconfig path")
    }

    @Test func aBrokenFileInTheListIsReportedWithItsName() throws {
        let (a, _) = try writeTwoFiles()
        let broken = try scratch.write("broken.yaml", "clusters:\n- name: x\n  cluster:\n    server: [unclosed\n")
        let text = errorText({
            _ = try KubeconfigLoader.load(explicitFile: nil, environment: scratch.environment(kubeconfig: "\(a):\(broken)"))
        })
        #expect(text?.hasPrefix("\(broken):") == true)
    }
}
