import Foundation
import Testing
import TestSupport

/// The engagement commands end to end on the process-node sandbox, for what needs no HTTP
/// routing in the agent: a filtered intercept that overlaps another is refused with the holder
/// named, one that does not is allowed; an ingest brings the container's environment and changes
/// no pod template; intercepts in two namespaces at once; `list`'s filters and its JSON.
@Suite(.serialized, .enabled(where: .root))
struct EngagementCLITests {
    @Test func filtersIngestNamespacesAndList() async throws {
        try await Workstation.with { ws in
            try await ws.deployInterceptApps()
            try await ws.deployTeamB()
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            try await ws.expectSuccess(["telepresence", "connect"])

            // A filtered intercept, then one that overlaps it: refused, naming the holder, its
            // client and its filter.
            let alice = try await ws.run(
                ["telepresence", "intercept", "echo-sym", "--port", "8181:http", "--http-header", "X-User=alice"], timeout: .seconds(90))
            #expect(alice.status == 0, "\(alice.combined)")
            #expect(alice.stdout.contains("HTTP requests with header 'X-User: alice'"), "\(alice.stdout)")
            let overlapping = try await ws.run(
                ["telepresence", "intercept", "api", "-w", "echo-sym", "--port", "8182:http", "--http-path-prefix", "/api"], timeout: .seconds(60))
            #expect(overlapping.status == 1, "\(overlapping.combined)")
            #expect(overlapping.stderr.contains("port 8080 of deployment echo-sym is already intercepted by "), "\(overlapping.stderr)")
            #expect(overlapping.stderr.contains("(intercept echo-sym: HTTP requests with header 'X-User: alice', since "), "\(overlapping.stderr)")
            // A filter that cannot match the same request is allowed beside it.
            let bob = try await ws.run(
                ["telepresence", "intercept", "bob", "-w", "echo-sym", "--port", "8182:http", "--http-header", "X-User: bob"], timeout: .seconds(60))
            #expect(bob.status == 0, "\(bob.combined)")
            // A bad filter is one sentence before anything reaches the cluster.
            let bad = try await ws.run(["telepresence", "intercept", "bad", "-w", "echo-sym", "--http-header", "nonsense"])
            #expect(bad.status != 0 && bad.stderr.contains("--http-header nonsense is not a header"), "\(bad.combined)")

            // Another namespace at the same time.
            let teamB = try await ws.run(["telepresence", "intercept", "echo-b", "-n", "team-b", "--port", "8183:http"], timeout: .seconds(90))
            #expect(teamB.status == 0, "\(teamB.combined)")
            let status = try await ws.expectSuccess(["telepresence", "status"])
            #expect(status.contains("intercept echo-b.team-b -> 127.0.0.1:8183 (ACTIVE): all TCP connections"), "\(status)")
            #expect(status.contains("intercept echo-sym.default -> 127.0.0.1:8181 (ACTIVE): HTTP requests with header 'X-User: alice'"), "\(status)")

            // list: the filter flags, and the engagements in JSON.
            let intercepted = try await ws.listJSON(["-i"])
            #expect(intercepted.map { $0["name"] as? String } == ["echo-sym"], "\(intercepted)")
            let engagements = (intercepted.first?["engagements"] as? [[String: Any]]) ?? []
            #expect(engagements.compactMap { $0["name"] as? String }.sorted() == ["bob", "echo-sym"], "\(engagements)")
            let aliceRow = try #require(engagements.first { $0["name"] as? String == "echo-sym" })
            #expect(aliceRow["kind"] as? String == "intercept")
            #expect(aliceRow["filter"] as? String == "HTTP requests with header 'X-User: alice'")
            #expect(aliceRow["ports"] as? [String] == ["8080/TCP"])
            #expect(aliceRow["namespace"] as? String == "default" && aliceRow["state"] as? String == "ACTIVE")
            #expect((aliceRow["client"] as? String)?.isEmpty == false)
            // Today's keys stay.
            #expect(intercepted.first?["workload_resource_type"] as? String == "deployment" && intercepted.first?["agent_installed"] as? Bool == true)
            #expect(try await ws.listJSON(["-t"]).isEmpty)
            #expect(try await ws.listJSON(["-r"]).isEmpty)
            #expect(try await ws.listJSON(["-g"]).isEmpty)
            #expect(try await ws.listJSON(["-i", "-n", "team-b"]).compactMap { $0["name"] as? String } == ["echo-b"])
            // -a: every workload with an agent (echo-num has none).
            #expect(try await ws.listJSON(["-a"]).compactMap { $0["name"] as? String } == ["echo-sym"])

            // A wiretap beside the intercepts of the same port: never a conflict.
            let tap = try await ws.run(["telepresence", "wiretap", "tap", "-w", "echo-sym", "--port", "8184:http"], timeout: .seconds(60))
            #expect(tap.status == 0, "\(tap.combined)")
            #expect(tap.stdout.contains("Wiretapping") && tap.stdout.contains("a copy of all TCP connections"), "\(tap.stdout)")
            let tapped = try await ws.listJSON(["-t"])
            let tapRow = (tapped.first?["engagements"] as? [[String: Any]])?.first { $0["kind"] as? String == "wiretap" }
            #expect(tapRow?["name"] as? String == "tap" && tapRow?["filter"] as? String == "a copy of all TCP connections", "\(tapped)")
            try await ws.expectSuccess(["telepresence", "leave", "tap"])
            #expect(try await ws.listJSON(["-t"]).isEmpty)

            // An ingest of a workload that has its agent (left, the agent stays): its env, and
            // no change to the pod template.
            try await ws.expectSuccess(["telepresence", "leave", "echo-b"])
            let before = try await ws.template("echo-b", namespace: "team-b")
            let envFile = ws.home.appendingPathComponent("ingest.env").path
            let ingest = try await ws.run(
                ["telepresence", "ingest", "echo-b", "-n", "team-b", "--env-file", envFile, "--env-syntax", "sh"], timeout: .seconds(60))
            #expect(ingest.status == 0, "\(ingest.combined)")
            #expect(ingest.stdout.contains("environment and mounts only"), "\(ingest.stdout)")
            let sourced = try await ws.run(["sh", "-c", ". \(envFile) && echo \"$TEAM/$TELEPRESENCE_CONTAINER\""])
            #expect(sourced.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "b/echo", "\(sourced.combined)")
            #expect(InterceptTests.same(try await ws.template("echo-b", namespace: "team-b"), before), "an ingest changes no pod template")
            let ingests = try await ws.listJSON(["-g", "-n", "team-b"])
            let ingestRow = try #require((ingests.first?["engagements"] as? [[String: Any]])?.first, "\(ingests)")
            #expect(ingestRow["kind"] as? String == "ingest" && ingestRow["filter"] as? String == "environment and mounts only")
            #expect(ingestRow["ports"] as? [String] == [])
            let text = try await ws.expectSuccess(["telepresence", "list", "-g", "-n", "team-b"])
            #expect(text.contains("deployment echo-b: ingested"), "\(text)")
            let withIngest = try await ws.expectSuccess(["telepresence", "status"])
            #expect(withIngest.contains("ingest echo-b.team-b (ACTIVE): environment and mounts only"), "\(withIngest)")

            // leave, with and without the container.
            let wrongContainer = try await ws.run(["telepresence", "leave", "echo-b", "-c", "nope"])
            #expect(wrongContainer.status == 1 && wrongContainer.stderr.contains("engages container echo, not nope"), "\(wrongContainer.combined)")
            try await ws.expectSuccess(["telepresence", "leave", "echo-b", "-c", "echo"])
            for name in ["bob", "echo-sym"] { try await ws.expectSuccess(["telepresence", "leave", name]) }
            #expect(try await ws.listJSON(["-i"]).isEmpty)
            #expect(try await ws.listJSON(["-g", "-n", "team-b"]).isEmpty)
            try await ws.expectSuccess(["telepresence", "quit"])
        }
    }
}

extension Workstation {
    /// Namespace team-b with echo-b (a Deployment and its Service).
    func deployTeamB() async throws {
        let manifest = """
            apiVersion: v1
            kind: Namespace
            metadata: {name: team-b}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: echo-b, namespace: team-b}
            spec:
              replicas: 1
              selector: {matchLabels: {app: echo-b}}
              template:
                metadata: {labels: {app: echo-b}}
                spec:
                  containers:
                  - name: echo
                    image: sandbox.local/echo:1
                    env: [{name: TEAM, value: b}]
                    ports: [{name: http, containerPort: 8080}]
                    readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: echo-b, namespace: team-b}
            spec:
              selector: {app: echo-b}
              ports: [{name: http, port: 80, targetPort: http}]
            """
        let applied = try await run(["kubectl", "apply", "-f", "-"], stdin: manifest)
        try #require(applied.status == 0, "\(applied.combined)")
        try await expectSuccess(["kubectl", "rollout", "status", "-n", "team-b", "deployment/echo-b", "--timeout=60s"])
    }

    /// A Deployment's pod template as JSON, in any namespace.
    func template(_ deployment: String, namespace: String) async throws -> [String: Any] {
        let text = try await expectSuccess(["kubectl", "get", "deployment", deployment, "-n", namespace, "-o", "jsonpath={.spec.template}"])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// `telepresence list --output json ARGS` as rows.
    func listJSON(_ arguments: [String]) async throws -> [[String: Any]] {
        let text = try await expectSuccess(["telepresence", "list", "--output", "json"] + arguments)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "\(text)")
    }
}
