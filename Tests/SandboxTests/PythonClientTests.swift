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

    /// Writes a real server refuses, and what it answers the client: the status, reason, message
    /// and the causes' fields the ApiException carries.
    static let typedWritesScript = #"""
        import json, sys
        from kubernetes import client, config
        config.load_kube_config(sys.argv[1])
        v1 = client.CoreV1Api(); apps = client.AppsV1Api()
        def attempt(label, call):
            try:
                call()
                print(label, "accepted")
            except client.ApiException as e:
                body = json.loads(e.body)
                causes = [c.get("field") for c in (body.get("details") or {}).get("causes", [])]
                print(label, e.status, body["reason"], body["message"], causes)
        template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx"}]}}
        attempt("replicas", lambda: apps.create_namespaced_deployment("default", {
            "metadata": {"name": "web"}, "spec": {"replicas": "two", "selector": {"matchLabels": {"app": "web"}}, "template": template}}))
        attempt("port", lambda: v1.create_namespaced_service("default", {
            "metadata": {"name": "web"}, "spec": {"ports": [{"port": 70000, "targetPort": 8080}]}}))
        attempt("selector", lambda: apps.create_namespaced_deployment("default", {
            "metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "api"}}, "template": template}}))
        extra = {"metadata": {"name": "extra"}, "data": {"a": "1"}, "colour": "red"}
        attempt("strict", lambda: v1.create_namespaced_config_map("default", extra, field_validation="Strict"))
        attempt("warn", lambda: v1.create_namespaced_config_map("default", extra))
        raw = json.loads(v1.read_namespaced_config_map("extra", "default", _preload_content=False).data)
        print("stored colour", "colour" in raw, "data", raw["data"])
        attempt("bogus", lambda: v1.create_namespaced_config_map("default", extra, field_validation="Bogus"))
        apps.create_namespaced_deployment("default", {"metadata": {"name": "ok"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template}})
        attempt("scale", lambda: apps.patch_namespaced_deployment_scale("ok", "default", {"spec": {"replicas": -1}}))
        """#

    @Test("refused writes: the status, reason, message and field paths of the real server", .enabled(if: available || Kubectl.isCI))
    func typedWrites() async throws {
        try #require(Self.available, "the Python kubernetes client is not importable by \(Self.python); pip install kubernetes==33.1.0")
        try await TestCluster.with { cluster in
            let scriptFile = cluster.directory.appendingPathComponent("typed.py")
            try Self.typedWritesScript.write(to: scriptFile, atomically: true, encoding: .utf8)
            let result = try await ProcessRunner.run([Self.python, scriptFile.path, cluster.kubeconfig.path])
            let output = result.combined
            #expect(result.status == 0, "\(output)")
            for line in [
                #"replicas 400 BadRequest Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32 []"#,
                #"port 422 Invalid Service "web" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive ['spec.ports[0].port']"#,
                #"selector 422 Invalid Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels` ['spec.template.metadata.labels']"#,
                #"strict 400 BadRequest ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "colour" []"#,
                "warn accepted", "stored colour False data {'a': '1'}",
                #"bogus 422 Invalid CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Bogus": supported values: "", "Ignore", "Strict", "Warn" ['fieldValidation']"#,
                #"scale 422 Invalid Scale.autoscaling "ok" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0 ['spec.replicas']"#,
            ] {
                #expect(output.contains(line), "\(output)")
            }
        }
    }
}
