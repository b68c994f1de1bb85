import Foundation
import Testing
import TestSupport

/// `intercept` end to end, typed as a user types it, on the process-node sandbox: two echo
/// Deployments behind Services (a symbolic and a numeric targetPort), a client pod in the
/// cluster, and a local server in the workstation namespace whose answers name their origin
/// (`"pod":"workstation"`).
@Suite(.serialized, .enabled(where: .root))
struct InterceptTests {
    @Test func interceptLeaveHandlerAndUninstall() async throws {
        try await Workstation.with { ws in
            try await ws.deployInterceptApps()
            let symBefore = try await ws.template("echo-sym")
            let numBefore = try await ws.template("echo-num")
            let local = try ws.startLocalEcho(port: 8181)
            defer { local.kill() }
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            try await ws.expectSuccess(["telepresence", "connect"])
            #expect(try await ws.fromCluster("http://echo-sym/before").contains("\"pod\":\"echo-sym-"))
            let before = try await ws.expectSuccess(["telepresence", "list"])
            #expect(before.contains("ready to engage (traffic-agent not yet installed)"), "\(before)")
            // The client pod is bare: list says why it cannot be engaged.
            #expect(before.split(separator: "\n").contains { $0.contains("pod client") && $0.contains("not engageable: a bare pod cannot be engaged") },
                    "\(before)")

            // Symbolic targetPort: the agent takes the port's name.
            let first = try await ws.run(["telepresence", "intercept", "echo-sym", "--port", "8181:http"], timeout: .seconds(90))
            #expect(first.status == 0, "\(first.combined)")
            #expect(first.stdout.contains("Intercept name") && first.stdout.contains("echo-sym"), "\(first.stdout)")
            let intercepted = try await ws.fromCluster("http://echo-sym/during")
            #expect(intercepted.contains("\"pod\":\"workstation\"") && intercepted.contains("/during"), "\(intercepted)")
            // Another port of the same pods still answers from the app.
            #expect(try await ws.inCluster(["sh", "-c", "echo tcp-ok | timeout 5 python3 -c \(Self.tcpClient.shellQuoted) echo-sym 9000"]) == "tcp-ok")
            let listing = try await ws.expectSuccess(["telepresence", "list"])
            #expect(listing.contains("echo-sym") && listing.contains("intercepted"), "\(listing)")
            let status = try await ws.expectSuccess(["telepresence", "status"])
            #expect(status.contains("echo-sym"), "\(status)")
            try await ws.expectSuccess(["telepresence", "leave", "echo-sym"])
            try await waitUntil("echo-sym's app to answer again after leave", timeout: .seconds(5)) {
                (try? await ws.fromCluster("http://echo-sym/after"))?.contains("\"pod\":\"echo-sym-") == true
            }
            // The agent stays: the next intercept needs no roll.
            #expect(try await ws.expectSuccess(["telepresence", "list"]).contains("ready to engage (traffic-agent already installed)"))

            // A handler: it runs with the app's env (a value, a configMap ref, a $(VAR)), its exit
            // code is the CLI's, and the intercept ends with it.
            let envFile = ws.home.appendingPathComponent("echo.env").path
            let handler = try await ws.run([
                "telepresence", "intercept", "echo-sym", "--port", "8181:http", "--env-file", envFile, "--env-syntax", "sh",
                "--wait-message", "the handler runs", "--", "sh", "-c", "echo \"GREETING=$GREETING COLOR=$COLOR DERIVED=$DERIVED CONTAINER=$TELEPRESENCE_CONTAINER\"; exit 7",
            ], timeout: .seconds(90))
            #expect(handler.status == 7, "\(handler.combined)")
            #expect(handler.stdout.contains("GREETING=hello COLOR=blue DERIVED=hello-derived CONTAINER=echo"), "\(handler.stdout)")
            #expect(handler.stdout.contains("the handler runs"), "\(handler.stdout)")
            let sourced = try await ws.run(["sh", "-c", ". \(envFile) && echo \"$GREETING/$COLOR\""])
            #expect(sourced.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hello/blue", "\(sourced.combined)")
            #expect(!(try await ws.expectSuccess(["telepresence", "list", "--intercepts"])).contains("echo-sym"), "the handler's exit ended it")

            // Numeric targetPort: the init container redirects the port; a rolling update during the
            // intercept keeps it (the new pods get the agent).
            let numeric = try await ws.run(["telepresence", "intercept", "echo-num", "--port", "8181:http"], timeout: .seconds(90))
            #expect(numeric.status == 0, "\(numeric.combined)")
            #expect(try await ws.fromCluster("http://echo-num/numeric").contains("\"pod\":\"workstation\""))
            try await ws.expectSuccess(["kubectl", "set", "env", "deployment/echo-num", "ROLLED=yes"])
            // What the user made of the template (the env), without what the intercept added.
            let numRolled = Self.withoutRestartedAt(try await ws.template("echo-num"))
            try await waitUntil("echo-num's new pods to carry the intercept", timeout: .seconds(60)) {
                let envs = try await ws.expectSuccess([
                    "kubectl", "get", "pods", "-l", "app=echo-num", "-o", "jsonpath={.items[*].spec.containers[0].env[*].name}",
                ])
                guard envs.components(separatedBy: "ROLLED").count - 1 == 2 else { return false }
                return (try? await ws.fromCluster("http://echo-num/rolled"))?.contains("\"pod\":\"workstation\"") == true
            }

            // A refused local dial is a reset at once in the cluster, never a hang.
            local.kill()
            let refused = try await ws.inCluster(["sh", "-c", "curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' http://echo-num/ || true"])
            #expect(refused.hasPrefix("000"), "\(refused)")
            #expect((Double(refused.split(separator: " ").last ?? "") ?? 99) < 5, "\(refused)")

            // uninstall: the pods roll back to the template they had.
            try await ws.expectSuccess(["telepresence", "uninstall", "echo-sym"])
            try await ws.waitForPodsWithoutAgent("echo-sym")
            #expect(Self.same(try await ws.template("echo-sym"), symBefore))
            // Least privilege: the manager did all of this with its install's RBAC, and the agents,
            // running as their pods' service account, asked the API for nothing.
            #expect(ws.denials(of: Workstation.managerAccount).isEmpty, "\(ws.denials(of: Workstation.managerAccount))")
            #expect(ws.denials(of: "system:serviceaccount:default:default").isEmpty, "\(ws.denials(of: "system:serviceaccount:default:default"))")
            // helm uninstall removes every agent first.
            try await ws.expectSuccess(["telepresence", "quit"])
            try await ws.expectSuccess(["telepresence", "helm", "uninstall"])
            try await ws.waitForPodsWithoutAgent("echo-num")
            #expect(Self.same(try await ws.template("echo-num"), numRolled))
            #expect(!Self.same(numRolled, numBefore))
            #expect(try await ws.run(["kubectl", "get", "configmap", "telepresence-agents"]).status != 0)
            try await waitUntil("echo-num's app to answer after helm uninstall", timeout: .seconds(10)) {
                (try? await ws.fromCluster("http://echo-num/end"))?.contains("\"pod\":\"echo-num-") == true
            }
        }
    }

    /// A pod template without the annotation the manager rolls workloads with.
    static func withoutRestartedAt(_ template: [String: Any]) -> [String: Any] {
        var copy = template
        var metadata = copy["metadata"] as? [String: Any] ?? [:]
        var annotations = metadata["annotations"] as? [String: Any] ?? [:]
        annotations.removeValue(forKey: "telepresence.io/restartedAt")
        metadata["annotations"] = annotations.isEmpty ? nil : annotations
        copy["metadata"] = metadata
        return copy
    }

    static func same(_ a: [String: Any], _ b: [String: Any]) -> Bool {
        NSDictionary(dictionary: a).isEqual(to: b)
    }

    /// Reads stdin, sends it to HOST:PORT, prints the answer (the echo app's TCP port).
    static let tcpClient = """
        import socket, sys
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
        s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk: break
            data += chunk
        sys.stdout.write(data.decode().strip())
        """
}

extension String {
    /// The string as one single-quoted shell word.
    var shellQuoted: String { "'" + replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

extension Workstation {
    /// echo-sym (Service targetPort by name), echo-num (by number), their env, and a client pod.
    func deployInterceptApps() async throws {
        func app(_ name: String, targetPort: String) -> String {
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: \(name)}
            spec:
              replicas: 2
              selector: {matchLabels: {app: \(name)}}
              template:
                metadata: {labels: {app: \(name)}}
                spec:
                  containers:
                  - name: echo
                    image: sandbox.local/echo:1
                    env:
                    - {name: GREETING, value: hello}
                    - {name: COLOR, valueFrom: {configMapKeyRef: {name: echo-config, key: color}}}
                    - {name: DERIVED, value: "$(GREETING)-derived"}
                    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                    ports: [{name: http, containerPort: 8080}, {name: tcp, containerPort: 9000}]
                    readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: \(name)}
            spec:
              selector: {app: \(name)}
              ports:
              - {name: http, port: 80, targetPort: \(targetPort)}
              - {name: tcp, port: 9000, targetPort: 9000}
            ---
            """
        }
        let manifest = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: echo-config}
            data: {color: blue}
            ---
            \(app("echo-sym", targetPort: "http"))
            \(app("echo-num", targetPort: "8080"))
            apiVersion: v1
            kind: Pod
            metadata: {name: client}
            spec:
              containers:
              - {name: shell, image: sandbox.local/shell, command: [sleep, "3600"]}
            """
        let applied = try await run(["kubectl", "apply", "-f", "-"], stdin: manifest)
        try #require(applied.status == 0, "\(applied.combined)")
        for name in ["echo-sym", "echo-num"] {
            try await expectSuccess(["kubectl", "rollout", "status", "deployment/\(name)", "--timeout=60s"])
        }
        try await expectSuccess(["kubectl", "wait", "--for=condition=Ready", "pod/client", "--timeout=60s"])
    }

    /// The Deployment's pod template as JSON (parsed, so key order does not matter).
    func template(_ deployment: String) async throws -> [String: Any] {
        let text = try await expectSuccess(["kubectl", "get", "deployment", deployment, "-o", "jsonpath={.spec.template}"])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// Runs a command in the cluster's client pod.
    func inCluster(_ command: [String]) async throws -> String {
        let result = try await run(["kubectl", "exec", "client", "--"] + command, timeout: .seconds(30))
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A request from inside the cluster.
    func fromCluster(_ url: String) async throws -> String {
        try await inCluster(["curl", "-s", "-m", "5", url])
    }

    /// The echo app on the workstation (in its namespace), answering as pod "workstation".
    func startLocalEcho(port: Int) throws -> ProcessRunner.Background {
        try ProcessRunner.start(
            [CommandRunner.executable("sandbox-cluster").path, "run", "--name", name, "--", "env", "POD_NAME=workstation",
             "HTTP_PORT=\(port)", "TCP_PORT=\(port + 1)", "UDP_PORT=\(port + 1)", CommandRunner.executable("sandbox-echo").path],
            environment: environment)
    }

    /// Waits until every pod of the deployment runs without the traffic-agent (after a roll back).
    func waitForPodsWithoutAgent(_ deployment: String) async throws {
        try await waitUntil("\(deployment)'s pods to run without the traffic-agent", timeout: .seconds(60)) {
            let containers = try await expectSuccess([
                "kubectl", "get", "pods", "-l", "app=\(deployment)", "-o", "jsonpath={range .items[*]}{.spec.containers[*].name};{end}",
            ])
            let pods = containers.split(separator: ";")
            return pods.count == 2 && pods.allSatisfy { $0 == "echo" }
        }
    }
}
