import Foundation
import KubeClient
import Testing

/// Drives real kubectl binaries through what a developer does on a cluster: apply, get, label,
/// annotate, patch, scale, rollout, wait, delete, and the errors they print.
@Suite("kubectl against the sandbox", .serialized)
struct KubectlWorkflowTests {
    static let manifest = """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: demo
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: demo
          labels: {app: web}
        spec:
          replicas: 2
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
              - name: web
                image: nginx:1.25
                env:
                - {name: MODE, value: demo}
                ports:
                - {containerPort: 8080, name: http}
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: demo
        spec:
          selector: {app: web}
          ports:
          - {port: 80, targetPort: http}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: cfg
          namespace: demo
        data:
          a: "1"
          b: "2"

        """

    /// The same objects with a changed image and replica count, the env var and a data key removed.
    static let updatedManifest = manifest
        .replacingOccurrences(of: "image: nginx:1.25", with: "image: nginx:1.26")
        .replacingOccurrences(of: "replicas: 2", with: "replicas: 3")
        .replacingOccurrences(of: "        env:\n        - {name: MODE, value: demo}\n", with: "")
        .replacingOccurrences(of: "  b: \"2\"\n", with: "")

    func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> JSONValue {
        do {
            return try JSONValue(data: Data(text.utf8))
        } catch {
            Issue.record("kubectl printed no JSON: \(text)", sourceLocation: sourceLocation)
            throw error
        }
    }

    @Test("apply, get, rollout, patch, scale, delete", .enabled(if: Kubectl.versions.allSatisfy(Kubectl.runnable)),
          arguments: Kubectl.versions)
    func workflow(version: String) async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl(version)
            var r = try await k.run(["get", "namespaces"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("default") && r.stdout.contains("kube-system") && r.stdout.contains("STATUS"))

            r = try await k.run(["apply", "-f", "-"] + k.validateFlags, stdin: Self.manifest)
            #expect(r.status == 0, "\(r.output)")
            for line in ["namespace/demo created", "deployment.apps/web created", "service/web created", "configmap/cfg created"] {
                #expect(r.stdout.contains(line), "\(r.output)")
            }

            r = try await k.run(["rollout", "status", "deployment/web", "-n", "demo", "--timeout=30s"])
            #expect(r.status == 0 && r.stdout.contains("successfully rolled out"), "\(r.output)")
            r = try await k.run(["wait", "--for=condition=Available", "deployment/web", "-n", "demo", "--timeout=30s"])
            #expect(r.status == 0 && r.stdout.contains("condition met"), "\(r.output)")

            r = try await k.run(["get", "pods", "-n", "demo", "-l", "app=web"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("READY") && r.stdout.components(separatedBy: "Running").count == 3, "\(r.output)")
            r = try await k.run(["get", "pods", "-A", "-o", "wide"])
            #expect(r.stdout.contains("NAMESPACE") && r.stdout.contains("demo") && r.stdout.contains("10.244.") && r.stdout.contains("sandbox-node"), "\(r.output)")
            r = try await k.run(["get", "svc", "web", "-n", "demo"])
            #expect(r.stdout.contains("CLUSTER-IP") && r.stdout.contains("10.96.") && r.stdout.contains("80/TCP"), "\(r.output)")

            r = try await k.run(["get", "deployment", "web", "-n", "demo", "-o", "json"])
            let deployment = try json(r.stdout)
            #expect(deployment["spec"]?["strategy"]?["type"] == "RollingUpdate")
            #expect(deployment["status"]?["readyReplicas"] == 2)
            r = try await k.run(["get", "configmap", "cfg", "-n", "demo", "-o", "yaml"])
            #expect(r.stdout.contains("kind: ConfigMap") && r.stdout.contains("resourceVersion:"), "\(r.output)")

            // Apply again with a changed and a removed field.
            r = try await k.run(["apply", "-f", "-"] + k.validateFlags, stdin: Self.updatedManifest)
            #expect(r.status == 0 && r.stdout.contains("deployment.apps/web configured") && r.stdout.contains("configmap/cfg configured")
                    && r.stdout.contains("service/web unchanged"), "\(r.output)")
            r = try await k.run(["rollout", "status", "deployment/web", "-n", "demo", "--timeout=30s"])
            #expect(r.status == 0, "\(r.output)")
            let updated = try json(try await k.run(["get", "deployment", "web", "-n", "demo", "-o", "json"]).stdout)
            let container = updated["spec"]?["template"]?["spec"]?["containers"]?[0]
            #expect(container?["image"] == "nginx:1.26")
            #expect(container?["env"] == nil)
            #expect(container?["ports"]?[0]?["name"] == "http")
            #expect(updated["status"]?["updatedReplicas"] == 3 && updated["metadata"]?["generation"] == 2)
            let cm = try json(try await k.run(["get", "cm", "cfg", "-n", "demo", "-o", "json"]).stdout)
            #expect(cm["data"] == ["a": "1"])

            // label, annotate and the three patch types.
            r = try await k.run(["label", "cm", "cfg", "-n", "demo", "tier=backend"])
            #expect(r.status == 0 && r.stdout.contains("configmap/cfg labeled"), "\(r.output)")
            r = try await k.run(["annotate", "cm", "cfg", "-n", "demo", "note=hello"])
            #expect(r.status == 0 && r.stdout.contains("configmap/cfg annotate"), "\(r.output)")
            r = try await k.run(["patch", "cm", "cfg", "-n", "demo", "--type", "json", "-p", #"[{"op":"add","path":"/data/c","value":"3"}]"#])
            #expect(r.status == 0 && r.stdout.contains("patched"), "\(r.output)")
            r = try await k.run(["patch", "cm", "cfg", "-n", "demo", "--type", "merge", "-p", #"{"data":{"a":null,"d":"4"}}"#])
            #expect(r.status == 0, "\(r.output)")
            r = try await k.run(["patch", "deployment", "web", "-n", "demo", "--type", "strategic", "-p",
                                 #"{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"EXTRA","value":"1"}]}]}}}}"#])
            #expect(r.status == 0, "\(r.output)")
            r = try await k.run(["get", "cm", "-n", "demo", "-l", "tier=backend", "-o", "json"])
            let selected = try json(r.stdout)
            #expect(selected["items"]?.arrayValue?.count == 1)
            let patched = selected["items"]?[0] ?? .null
            #expect(patched["data"] == ["c": "3", "d": "4"])
            #expect(patched["metadata"]?["annotations"]?["note"] == "hello")
            let strategic = try json(try await k.run(["get", "deploy", "web", "-n", "demo", "-o", "json"]).stdout)
            #expect(strategic["spec"]?["template"]?["spec"]?["containers"]?[0]?["image"] == "nginx:1.26")
            #expect(strategic["spec"]?["template"]?["spec"]?["containers"]?[0]?["env"]?[0]?["name"] == "EXTRA")

            // scale and restart.
            r = try await k.run(["scale", "deployment", "web", "-n", "demo", "--replicas=1"])
            #expect(r.status == 0 && r.stdout.contains("deployment.apps/web scaled"), "\(r.output)")
            r = try await k.run(["rollout", "restart", "deployment/web", "-n", "demo"])
            #expect(r.status == 0 && r.stdout.contains("restarted"), "\(r.output)")
            r = try await k.run(["rollout", "status", "deployment/web", "-n", "demo", "--timeout=30s"])
            #expect(r.status == 0 && r.stdout.contains("successfully rolled out"), "\(r.output)")
            #expect(try await eventually {
                try await k.run(["get", "pods", "-n", "demo", "-l", "app=web", "-o", "name"]).stdout
                    .split(separator: "\n").count == 1
            })

            // Errors: a missing object and a stale update.
            r = try await k.run(["get", "deployment", "nope", "-n", "demo"])
            #expect(r.status == 1 && r.stderr.contains(#"Error from server (NotFound): deployments.apps "nope" not found"#), "\(r.output)")
            var stale = try json(try await k.run(["get", "cm", "cfg", "-n", "demo", "-o", "json"]).stdout)
            _ = try await k.run(["label", "cm", "cfg", "-n", "demo", "bump=1"])
            stale["data"] = ["x": "y"]
            r = try await k.run(["replace", "-f", "-"] + k.validateFlags, stdin: String(decoding: try stale.data(), as: UTF8.self))
            #expect(r.status == 1 && r.stderr.contains("Error from server (Conflict)")
                    && r.stderr.contains("the object has been modified; please apply your changes to the latest version and try again"), "\(r.output)")

            // delete waits until gone, and the garbage collector takes the pods.
            r = try await k.run(["delete", "deployment", "web", "-n", "demo"])
            #expect(r.status == 0 && r.stdout.contains(#"deployment.apps "web" deleted"#), "\(r.output)")
            #expect(try await eventually {
                try await k.run(["get", "pods,rs", "-n", "demo", "-o", "name"]).stdout.isEmpty
            })
            r = try await k.run(["delete", "namespace", "demo"])
            #expect(r.status == 0, "\(r.output)")
            r = try await k.run(["get", "cm", "-n", "demo"])
            #expect(r.stdout.isEmpty)
        }
    }

    @Test("get -w sees a change made by another kubectl", .enabled(if: Kubectl.versions.allSatisfy(Kubectl.runnable)),
          arguments: Kubectl.versions)
    func watch(version: String) async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl(version)
            _ = try await k.run(["create", "configmap", "first", "--from-literal=a=1"])
            let watcher = try k.start(["get", "configmaps", "-w"])
            defer { watcher.stop() }
            let initial = try await watcher.waitForOutput { $0.contains("first") }
            #expect(initial.contains("first"))
            let r = try await k.run(["create", "configmap", "second", "--from-literal=b=2"])
            #expect(r.status == 0, "\(r.output)")
            let seen = try await watcher.waitForOutput { $0.contains("second") }
            #expect(seen.contains("second"), "watch output: \(seen)")
        }
    }

    @Test("a wrong token is refused with 401; a client certificate is accepted",
          .enabled(if: Kubectl.runnable("1.33")))
    func authentication() async throws {
        try await TestCluster.with { cluster in
            let wrong = cluster.directory.appendingPathComponent("wrong")
            try (try cluster.server.kubeconfig()).replacingOccurrences(of: cluster.server.token, with: "nope")
                .write(to: wrong, atomically: true, encoding: .utf8)
            var r = try await cluster.kubectl("1.33", kubeconfig: wrong).run(["get", "pods"])
            #expect(r.status == 1 && r.stderr.contains("You must be logged in to the server"), "\(r.output)")

            let certificate = cluster.directory.appendingPathComponent("cert")
            try cluster.server.kubeconfig(clientCertificateUser: "alice").write(to: certificate, atomically: true, encoding: .utf8)
            r = try await cluster.kubectl("1.33", kubeconfig: certificate).run(["get", "namespaces", "-o", "name"])
            #expect(r.status == 0 && r.stdout.contains("namespace/default"), "\(r.output)")
        }
    }
}
