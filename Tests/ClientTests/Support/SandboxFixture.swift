import Foundation
import KubeClient
import Sandbox
import TestSupport
import Testing

/// A sandbox API server with its kubeconfig in a temporary folder, and the folder a test's
/// workstation files (runtime dir, cache, config) live in. Always shut down and removed.
struct SandboxFixture {
    let server: APIServer
    let folder: URL
    let kubeconfig: URL
    let kube: KubeClient

    static func with<T>(_ body: (SandboxFixture) async throws -> T) async throws -> T {
        let folder = URL(fileURLWithPath: "/tmp/tpc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let result: Result<T, any Error>
        do { result = .success(try await serve(in: folder, body)) } catch { result = .failure(error) }
        // The CLI's `connect` starts a root daemon in this folder's runtime dir; tests that
        // stop their in-process user daemon directly leave it: stop it (nothing is left).
        await stopProcesses(mentioning: folder.path)
        try? FileManager.default.removeItem(at: folder)
        return try result.get()
    }

    private static func serve<T>(in folder: URL, _ body: (SandboxFixture) async throws -> T) async throws -> T {
        let server = try await APIServer.start()
        do {
            let kubeconfig = folder.appendingPathComponent("kubeconfig")
            try server.writeKubeconfig(to: kubeconfig)
            let kube = KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: kubeconfig.path)))
            let result = try await body(SandboxFixture(server: server, folder: folder, kubeconfig: kubeconfig, kube: kube))
            try await server.shutdown()
            return result
        } catch {
            try? await server.shutdown()
            throw error
        }
    }

    /// Environment for the CLI: its own runtime, cache and config folders, this kubeconfig.
    var environment: [String: String] {
        [
            "KUBECONFIG": kubeconfig.path,
            "HOME": folder.path,
            "XDG_RUNTIME_DIR": folder.appendingPathComponent("run").path,
            "XDG_CACHE_HOME": folder.appendingPathComponent("cache").path,
            "XDG_CONFIG_HOME": folder.appendingPathComponent("config").path,
        ]
    }

    /// Names of every object our install labels, across the kinds it makes.
    func ownedObjects() async throws -> [String] {
        let selector = ListOptions(labelSelector: "app.kubernetes.io/managed-by=telepresence")
        var names: [String] = []
        let kinds: [ResourceDescriptor] = [
            .namespaces, .serviceAccounts, .services, .deployments, .replicaSets, .pods, .secrets,
            ResourceDescriptor(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", namespaced: false, kind: "ClusterRole"),
            ResourceDescriptor(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", namespaced: false, kind: "ClusterRoleBinding"),
            ResourceDescriptor(group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", namespaced: true, kind: "Role"),
            ResourceDescriptor(group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", namespaced: true, kind: "RoleBinding"),
        ]
        for kind in kinds {
            let list: KubeList<JSONValue> = try await kube.list(kind, namespace: KubeClient.allNamespaces, options: selector)
            names += list.items.compactMap { item in item["metadata"]?["name"]?.stringValue.map { "\(kind.kind)/\($0)" } }
        }
        let pods: KubeList<JSONValue> = try await kube.list(.pods, namespace: KubeClient.allNamespaces, options: ListOptions(labelSelector: "app=traffic-manager"))
        names += pods.items.compactMap { $0["metadata"]?["name"]?.stringValue.map { "Pod/\($0)" } }
        let secrets: KubeList<JSONValue> = try await kube.list(.secrets, namespace: KubeClient.allNamespaces, options: ListOptions(labelSelector: "owner=telepresence"))
        names += secrets.items.compactMap { $0["metadata"]?["name"]?.stringValue.map { "Secret/\($0)" } }
        return names
    }
}

/// Ends every process whose command line names `marker` (SIGTERM, then SIGKILL to those still
/// running after 5 s).
func stopProcesses(mentioning marker: String) async {
    func pids() -> [Int32] { ProcessTable.processes { $0.commandLine.contains(marker) } }
    let found = pids()
    guard !found.isEmpty else { return }
    for pid in found { kill(pid, SIGTERM) }
    if (try? await waitUntil("the processes of \(marker) to end on SIGTERM", timeout: .seconds(5)) { pids().isEmpty }) == nil {
        for pid in pids() { kill(pid, SIGKILL) }
    }
}
