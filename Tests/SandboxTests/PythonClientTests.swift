import ChildProcess
import Foundation
import TestSupport
import Testing

/// The official Python `kubernetes` client against the sandbox: list, create, strategic and
/// JSON patch, watch with `watch=True`, pod log, delete and its 404.
@Suite("Python kubernetes client against the sandbox")
struct PythonClientTests {
    /// `SANDBOX_PYTHON` or `python3`; the client must be importable (./scripts/test installs it).
    static let python = ProcessInfo.processInfo.environment["SANDBOX_PYTHON"] ?? "python3"

    static let available: Bool = {
        // Once, before any test runs: a short run on the initializing thread.
        let output = try? ChildProcess.runOnCallingThread(
            executable: "/usr/bin/env", arguments: [python, "-c", "import kubernetes"], timeout: .seconds(30))
        return output?.status == 0
    }()

    static let script = #"""
        import sys
        from kubernetes import client, config, watch
        config.load_kube_config(sys.argv[1])
        v1 = client.CoreV1Api(); apps = client.AppsV1Api()
        print("namespaces", sorted(n.metadata.name for n in v1.list_namespace().items))
        v1.create_namespaced_config_map("default", {"metadata": {"name": "py"}, "data": {"a": "1"}})
        print("smp", sorted(v1.patch_namespaced_config_map("py", "default", {"data": {"b": "2"}}).data.items()))
        print("jsonpatch", sorted(v1.patch_namespaced_config_map("py", "default", [{"op": "remove", "path": "/data/a"}]).data.items()))
        dep = {"metadata": {"name": "web"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
               "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}}}
        apps.create_namespaced_deployment("default", dep)
        names = set()
        for ev in watch.Watch().stream(v1.list_namespaced_pod, "default", timeout_seconds=2):
            names.add(ev["object"].metadata.name)
        print("watched", len(names))
        print("log", repr(v1.read_namespaced_pod_log(sorted(names)[0], "default")))
        v1.delete_namespaced_config_map("py", "default")
        try:
            v1.read_namespaced_config_map("py", "default")
        except client.ApiException as e:
            print("after delete", e.status)
        """#

    @Test("list, create, patch, watch, log, delete", .enabled(if: available || Kubectl.isCI))
    func pythonClient() async throws {
        try #require(Self.available, "the Python kubernetes client is not importable by \(Self.python); pip install kubernetes==33.1.0")
        try await TestCluster.with { cluster in
            let scriptFile = cluster.directory.appendingPathComponent("check.py")
            try Self.script.write(to: scriptFile, atomically: true, encoding: .utf8)
            let result = try await ProcessRunner.run([Self.python, scriptFile.path, cluster.kubeconfig.path])
            let output = result.combined
            #expect(result.status == 0, "\(output)")
            for line in [
                "namespaces ['default', 'kube-node-lease', 'kube-public', 'kube-system']",
                "smp [('a', '1'), ('b', '2')]", "jsonpatch [('b', '2')]", "watched 2", "log ''", "after delete 404",
            ] {
                #expect(output.contains(line), "\(output)")
            }
        }
    }
}
