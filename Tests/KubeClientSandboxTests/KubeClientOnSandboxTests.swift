import Foundation
import KubeClient
import Sandbox
import Testing

/// KubeClient against the sandbox API server over real HTTPS, configured from the kubeconfig the
/// sandbox writes: the same path a user's `telepresence` takes to a real cluster.
@Suite struct KubeClientOnSandboxTests {
    /// Starts a sandbox API server, writes its kubeconfig, loads it the way the CLI does, and
    /// always shuts the server down and removes the folder.
    static func withClient<T>(
        clientCertificateUser: String? = nil, _ body: (KubeClient, APIServer) async throws -> T
    ) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kc-sandbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await APIServer.start()
        do {
            let kubeconfig = folder.appendingPathComponent("kubeconfig")
            try server.writeKubeconfig(to: kubeconfig, clientCertificateUser: clientCertificateUser)
            let configuration = try ClientConfigurationLoader.load(
                overrides: ConfigurationOverrides(kubeconfig: kubeconfig.path))
            let result = try await body(KubeClient(configuration: configuration), server)
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    @Test func typedCreateGetListAndDelete() async throws {
        try await Self.withClient { client, _ in
            let created = try await client.create(
                .configMaps, ConfigMap(metadata: ObjectMeta(name: "settings", labels: ["app": "web"]), data: ["a": "1"]),
                namespace: "default")
            #expect(created.metadata.uid != nil)
            #expect(created.metadata.resourceVersion != nil)
            let fetched: ConfigMap = try await client.get(.configMaps, name: "settings", namespace: "default")
            #expect(fetched.data == ["a": "1"])
            let listed: KubeList<ConfigMap> = try await client.list(
                .configMaps, namespace: "default", options: ListOptions(labelSelector: "app=web"))
            #expect(listed.items.map(\.metadata.name) == ["settings"])
            try await client.delete(.configMaps, name: "settings", namespace: "default")
            await #expect {
                let _: ConfigMap = try await client.get(.configMaps, name: "settings", namespace: "default")
            } throws: { error in
                (error as? KubeError)?.isNotFound == true && "\(error)".contains("configmaps \"settings\" not found")
            }
        }
    }

    @Test func listAllFollowsContinueTokens() async throws {
        try await Self.withClient { client, _ in
            for i in 0..<25 {
                let _: ConfigMap = try await client.create(
                    .configMaps, ConfigMap(metadata: ObjectMeta(name: "cm-\(i)")), namespace: "default")
            }
            let page: KubeList<ConfigMap> = try await client.list(
                .configMaps, namespace: "default", options: ListOptions(limit: 10))
            #expect(page.items.count == 10)
            #expect(page.continueToken != nil)
            let all: KubeList<ConfigMap> = try await client.listAll(
                .configMaps, namespace: "default", options: ListOptions(limit: 10))
            #expect(Set(all.items.compactMap(\.metadata.name)).count == 25)
            #expect(all.continueToken == nil)
        }
    }

    @Test func staleUpdateIsAConflict() async throws {
        try await Self.withClient { client, _ in
            var first = try await client.create(
                .configMaps, ConfigMap(metadata: ObjectMeta(name: "c"), data: ["v": "1"]), namespace: "default")
            var second = first
            first.data = ["v": "2"]
            _ = try await client.update(.configMaps, first, namespace: "default")
            second.data = ["v": "3"]
            await #expect {
                _ = try await client.update(.configMaps, second, namespace: "default")
            } throws: { error in
                (error as? KubeError)?.isConflict == true && "\(error)".contains("the object has been modified")
            }
        }
    }

    @Test func everyPatchTypeChangesTheObject() async throws {
        try await Self.withClient { client, _ in
            let deployment: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": ["name": "web"],
                "spec": [
                    "selector": ["matchLabels": ["app": "web"]],
                    "template": [
                        "metadata": ["labels": ["app": "web"]],
                        "spec": ["containers": [["name": "app", "image": "echo:1", "env": [["name": "A", "value": "1"]]]]],
                    ],
                ],
            ]
            let _: JSONValue = try await client.create(.deployments, deployment, namespace: "default")

            // Strategic merge: containers merge by name, env by name.
            let strategic: JSONValue = ["spec": ["template": ["spec": ["containers": [
                ["name": "app", "env": [["name": "B", "value": "2"]]],
            ]]]]]
            var result: Deployment = try await client.patch(
                .deployments, name: "web", namespace: "default", type: .strategicMerge, patch: strategic)
            let env = result.spec?.template.spec?.containers.first?.env?.compactMap(\.name) ?? []
            #expect(Set(env) == ["A", "B"])

            result = try await client.patch(
                .deployments, name: "web", namespace: "default", type: .merge, patch: ["spec": ["replicas": 3]] as JSONValue)
            #expect(result.spec?.replicas == 3)

            let jsonPatch: JSONPatch = [.replace(path: "/spec/replicas", value: 2)]
            result = try await client.patch(.deployments, name: "web", namespace: "default", type: .json, patch: jsonPatch)
            #expect(result.spec?.replicas == 2)

            let applied = Data("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, labels: {tier: front}}
                """.utf8)
            result = try await client.patch(
                .deployments, name: "web", namespace: "default", type: .apply(fieldManager: "tests", force: true),
                body: applied)
            #expect(result.metadata.labels?["tier"] == "front")

            let scale = try await client.updateScale(.deployments, name: "web", namespace: "default", replicas: 4)
            #expect(scale.replicas == 4)
            #expect(scale.selector == "app=web")
        }
    }

    @Test func watchSeesChangesFromTheListVersion() async throws {
        try await Self.withClient { client, _ in
            let list: KubeList<ConfigMap> = try await client.list(.configMaps, namespace: "default")
            let version = try #require(list.resourceVersion)
            let events = client.watch(.configMaps, namespace: "default", resourceVersion: version, as: ConfigMap.self)
            let watcher = Task { () -> [String] in
                var seen: [String] = []
                for try await event in events {
                    switch event {
                    case .added(let cm): seen.append("ADDED \(cm.metadata.name ?? "")")
                    case .modified(let cm): seen.append("MODIFIED \(cm.metadata.name ?? "")")
                    case .deleted(let cm): seen.append("DELETED \(cm.metadata.name ?? "")")
                    default: continue
                    }
                    if seen.count == 3 { return seen }
                }
                return seen
            }
            var cm = try await client.create(.configMaps, ConfigMap(metadata: ObjectMeta(name: "w")), namespace: "default")
            cm.data = ["k": "v"]
            _ = try await client.update(.configMaps, cm, namespace: "default")
            try await client.delete(.configMaps, name: "w", namespace: "default")
            let seen = try await withDeadline(seconds: 10) { try await watcher.value }
            #expect(seen == ["ADDED w", "MODIFIED w", "DELETED w"])
        }
    }

    @Test func aClientCertificateFromTheKubeconfigAuthenticates() async throws {
        try await Self.withClient(clientCertificateUser: "alice") { client, _ in
            let namespaces: KubeList<Namespace> = try await client.list(.namespaces)
            #expect(namespaces.items.contains { $0.metadata.name == "default" })
        }
    }

    @Test func aWrongTokenIsRejectedWithAnActionableMessage() async throws {
        try await Self.withClient { client, server in
            var configuration = client.configuration
            configuration.credentials = BearerTokenCredentials(token: "not-" + server.token)
            let wrong = KubeClient(configuration: configuration)
            await #expect {
                let _: KubeList<Namespace> = try await wrong.list(.namespaces)
            } throws: { error in
                (error as? KubeError)?.isUnauthorized == true
            }
        }
    }

    @Test func deploymentsRollOutOnTheVirtualNode() async throws {
        try await Self.withClient { client, _ in
            let deployment: JSONValue = [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "api"],
                "spec": [
                    "replicas": 2, "selector": ["matchLabels": ["app": "api"]],
                    "template": ["metadata": ["labels": ["app": "api"]],
                                 "spec": ["containers": [["name": "app", "image": "echo:1"]]]],
                ],
            ]
            let _: JSONValue = try await client.create(.deployments, deployment, namespace: "default")
            let ready = try await withDeadline(seconds: 15) { () -> Bool in
                while true {
                    let current: Deployment = try await client.get(.deployments, name: "api", namespace: "default")
                    if current.status?.readyReplicas == 2 { return true }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(ready)
            let pods: KubeList<Pod> = try await client.list(.pods, namespace: "default", options: ListOptions(labelSelector: "app=api"))
            #expect(pods.items.count == 2)
            #expect(pods.items.allSatisfy { $0.status?.phase == "Running" && $0.status?.podIP?.hasPrefix("10.244.") == true })
        }
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "the condition was not met within \(seconds) s" }
}

/// Runs `body`, failing with `DeadlineExceeded` if it has not finished after `seconds`.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw DeadlineExceeded(seconds: seconds)
        }
        let first = try await group.next()!
        group.cancelAll()
        return first
    }
}
