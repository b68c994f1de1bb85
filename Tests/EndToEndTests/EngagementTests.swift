import Foundation
import Testing
import TestSupport

/// Engagements, part 2, as a team uses one cluster (issue 14), typed as users type them: two
/// developers (workstations alice and bob, added to the sandbox) intercept one Service by an
/// `X-User` header over HTTP/1.1 keep-alive, h2c and gRPC; a third overlapping filter is refused
/// naming its holder; wiretaps get copies while the app answers, and a stalled one is cut
/// without slowing the app; `replace` takes the container out and `leave` brings it back;
/// `ingest` changes nothing in the cluster and gives the environment.
@Suite(.serialized, .enabled(where: .root))
struct EngagementTests {
    @Test func twoDevelopersInterceptOneServiceByHeader() async throws {
        try await Workstation.withManager { admin in
            try await admin.deployInterceptApps()
            let alice = try await admin.addWorkstation("alice")
            let bob = try await admin.addWorkstation("bob")
            var servers: [ProcessRunner.Background] = []
            defer { servers.forEach { $0.kill() } }
            for ws in [alice, bob] {
                try await ws.expectSuccess(["telepresence", "connect"])
                servers.append(try await ws.startEcho(as: ws.workstation!, port: 8181))
            }
            for (ws, user) in [(alice, "alice"), (bob, "bob")] {
                let result = try await ws.run(
                    ["telepresence", "intercept", "echo-sym", "--port", "8181:http", "--http-header", "X-User=\(user)"], timeout: .seconds(90))
                try #require(result.status == 0, "\(user): \(result.combined)")
            }

            // HTTP/1.1: one keep-alive connection, users mixed; each request goes its own way.
            let exchange = try await admin.keepAliveRequests(
                "echo-sym", ["/1@alice", "/2@bob", "/3", "/4@bob", "/5@alice", "/6@carol", "/7@alice"])
            #expect(exchange.connections == 1, "\(exchange)")
            #expect(exchange.origins(app: "echo-sym") == ["alice", "bob", "echo-sym", "bob", "alice", "echo-sym", "alice"], "\(exchange)")
            #expect(exchange.answers.map(\.path) == ["/1", "/2", "/3", "/4", "/5", "/6", "/7"], "\(exchange)")

            // h2c by upgrade (curl --http2: the first request upgrades, the next two are streams
            // of the same HTTP/2 connection) to three places. curl 7.88 cannot reuse a
            // prior-knowledge connection (its second request fails with an HTTP/2 framing error
            // against any server), so prior knowledge is checked one request per connection
            // below, and by the gRPC calls.
            let h2 = try await admin.inCluster([
                "curl", "-s", "-m", "10", "--http2",
                "-w", "\\n%{num_connects}\\n", "-H", "X-User: alice", "http://echo-sym/h2-alice",
                "--next", "--http2", "-w", "\\n%{num_connects}\\n", "-H", "X-User: bob", "http://echo-sym/h2-bob",
                "--next", "--http2", "-w", "\\n%{num_connects}\\n", "http://echo-sym/h2-none",
            ])
            let h2Lines = h2.split(separator: "\n").map(String.init)
            #expect(h2Lines.count == 6, "\(h2)")
            if h2Lines.count == 6 {
                #expect(h2Lines[0].contains("\"pod\":\"alice\"") && h2Lines[0].contains("h2-alice"), "\(h2)")
                #expect(h2Lines[2].contains("\"pod\":\"bob\"") && h2Lines[2].contains("h2-bob"), "\(h2)")
                #expect(h2Lines[4].contains("\"pod\":\"echo-sym-"), "\(h2)")
                #expect([h2Lines[1], h2Lines[3], h2Lines[5]] == ["1", "0", "0"], "one connection: \(h2)")
            }
            for (user, pod) in [("bob", "\"pod\":\"bob\""), ("", "\"pod\":\"echo-sym-")] {
                var curl = ["curl", "-s", "-m", "10", "--http2-prior-knowledge", "http://echo-sym/pk-\(user)"]
                if !user.isEmpty { curl += ["-H", "X-User: \(user)"] }
                let answer = try await admin.inCluster(curl)
                #expect(answer.contains(pod) && answer.contains("pk-\(user)"), "prior knowledge, user '\(user)': \(answer)")
            }
            // h2c by upgrade from HTTP/1.1.
            let upgraded = try await admin.inCluster(["curl", "-s", "-m", "10", "--http2", "-H", "X-User: bob", "http://echo-sym/upgraded"])
            #expect(upgraded.contains("\"pod\":\"bob\""), "\(upgraded)")
            // gRPC (HTTP/2, its metadata as headers): the answer names the pod that gave it.
            for user in ["alice", "bob", nil] {
                let call = try await admin.run(
                    ["kubectl", "exec", "client", "--", CommandRunner.executable("sandbox-echo").path, "grpc-call", "echo-sym:80"]
                        + (user.map { ["--header", "x-user=\($0)"] } ?? []), timeout: .seconds(30))
                let byApp = call.stdout.contains("echo-sym-")
                #expect(call.status == 0 && (user == nil ? byApp : !byApp && call.stdout.contains(user!)), "gRPC as \(user ?? "nobody"): \(call.combined)")
            }

            // A third developer's filter that overlaps alice's is refused, naming alice's engagement and client.
            let carol = try await admin.addWorkstation("carol")
            try await carol.expectSuccess(["telepresence", "connect"])
            let refused = try await carol.run(
                ["telepresence", "intercept", "echo-sym", "--port", "8181:http", "--http-header", "X-User=alice", "--http-path-prefix", "/api"],
                timeout: .seconds(60))
            #expect(refused.status != 0, "\(refused.combined)")
            #expect(refused.stderr.contains("echo-sym") && refused.stderr.contains("@alice"), "\(refused.combined)")
            // A filter that does not overlap is fine beside them.
            let disjoint = try await carol.run(
                ["telepresence", "intercept", "echo-sym", "--port", "8181:http", "--http-header", "X-User=carol"], timeout: .seconds(60))
            #expect(disjoint.status == 0, "\(disjoint.combined)")

            // list shows each engagement's kind, client and filter in words.
            let listing = try await alice.expectSuccess(["telepresence", "list", "--intercepts", "--output", "json", "--detailed-output"])
            let engagements = Self.engagements(in: listing, workload: "echo-sym")
            #expect(engagements.count == 3, "\(listing)")
            let alices = engagements.first { ($0["client"] as? String ?? "").hasSuffix("@alice") }
            #expect(alices?["kind"] as? String == "intercept", "\(listing)")
            #expect((alices?["filter"] as? String ?? "").contains("X-User: alice"), "\(listing)")

            // bob leaves: his requests go to the app, alice's still to alice.
            try await bob.expectSuccess(["telepresence", "leave", "echo-sym"])
            try await waitUntil("bob's requests to reach the app after his leave", timeout: .seconds(10)) {
                try await admin.keepAliveRequests("echo-sym", ["/x@bob", "/y@alice"]).origins(app: "echo-sym") == ["echo-sym", "alice"]
            }
        }
    }

    @Test func wiretapsSeeEveryRequestAndAStalledOneIsCutWithoutSlowingTheApp() async throws {
        try await Workstation.withManager { admin in
            try await admin.deployInterceptApps()
            let alice = try await admin.addWorkstation("alice")
            let bob = try await admin.addWorkstation("bob")
            for ws in [alice, bob] { try await ws.expectSuccess(["telepresence", "connect"]) }
            let recorder = try await alice.startRecorder(as: "alice", port: 8181)
            defer { recorder.kill() }
            let tapped = try await alice.run(["telepresence", "wiretap", "echo-sym", "--port", "8181:http"], timeout: .seconds(90))
            try #require(tapped.status == 0, "\(tapped.combined)")

            // Every request is answered by the app, and alice's workstation sees each of them.
            let specs = (1...10).map { $0 % 3 == 0 ? "/tap\($0)" : "/tap\($0)@\($0 % 2 == 0 ? "alice" : "bob")" }
            let exchange = try await admin.keepAliveRequests("echo-sym", specs)
            #expect(exchange.origins(app: "echo-sym") == Array(repeating: "echo-sym", count: 10), "\(exchange)")
            do {
                try await waitUntil("alice's workstation to get a copy of every request", timeout: .seconds(30)) {
                    Set(recorder.recorded.map(\.path)).isSuperset(of: (1...10).map { "/tap\($0)" })
                }
            } catch {
                let pods = try? await admin.run(["kubectl", "get", "pods", "-o", "wide"])
                let agents = try? await admin.run(["kubectl", "logs", "deployment/echo-sym", "-c", "traffic-agent"])
                Issue.record("alice got \(recorder.recorded.map(\.path)); pods: \(pods?.combined ?? ""); agent: \(agents?.combined ?? "")")
                throw error
            }
            #expect(recorder.recorded.first { $0.path == "/tap2" }?.user == "alice", "the copy carries the request's headers")

            // bob wiretaps too, with a workstation that stops reading: the app's answers stay on
            // time while the copies pile up, bob's copy is cut and bob is told; alice's goes on.
            let stalled = try await bob.startStalledServer(port: 8181)
            defer { stalled.kill() }
            let second = try await bob.run(["telepresence", "wiretap", "echo-sym", "--port", "8181:http"], timeout: .seconds(90))
            try #require(second.status == 0, "\(second.combined)")
            let baseline = try await admin.keepAliveRequests("echo-sym", bodyBytes: 256 << 10, ["/warm1", "/warm2"])
            // The copy is cut once the agent holds more than its bound (1 MiB); before that the
            // stream's tunnel window (8 MiB) and the sockets' buffers on the way (about 10 MiB on
            // the workstation) take their share, so one connection carries 32 MiB of requests,
            // batch after batch until bob is told, and every answer must stay on time.
            func bobWasTold() async throws -> Bool {
                let listing = try await bob.run(["telepresence", "list", "--output", "json", "--detailed-output"]).stdout
                return Self.engagements(in: listing, workload: "echo-sym").contains {
                    ($0["client"] as? String ?? "").hasSuffix("@bob") && !($0["message"] as? String ?? "").isEmpty
                }
            }
            var told = false
            for batch in 1...3 where !told {
                let heavy = try await admin.keepAliveRequests("echo-sym", bodyBytes: 256 << 10, (1...128).map { "/big\(batch)-\($0)" })
                #expect(heavy.origins(app: "echo-sym") == Array(repeating: "echo-sym", count: 128), "\(heavy)")
                let slowest = heavy.answers.map(\.milliseconds).max() ?? .infinity
                #expect(slowest < 1000, "the app's answers waited for a stalled wiretap: slowest \(slowest) ms in batch \(batch) (unloaded \(baseline.answers.map(\.milliseconds)))")
                told = try await bobWasTold()
            }
            try await waitUntil("bob to be told that his wiretap copy was cut", timeout: .seconds(20), pollingEvery: .milliseconds(200)) {
                try await bobWasTold()
            }
            try await waitUntil("alice's workstation to keep getting copies", timeout: .seconds(10)) {
                _ = try await admin.keepAliveRequests("echo-sym", ["/after-cut"])
                return recorder.recorded.contains { $0.path == "/after-cut" }
            }
            try await alice.expectSuccess(["telepresence", "leave", "echo-sym"])
            try await bob.expectSuccess(["telepresence", "leave", "echo-sym"])
        }
    }

    @Test func replaceTakesTheContainerOutAndLeaveBringsItBack() async throws {
        try await Workstation.withManager { admin in
            try await admin.deployShop()
            let alice = try await admin.addWorkstation("alice")
            try await alice.expectSuccess(["telepresence", "connect"])
            let local = try await alice.startEcho(as: "alice", port: 8080, tcpPort: 9000)
            defer { local.kill() }
            let before = InterceptTests.withoutRestartedAt(try await admin.template("shop"))

            let started = ContinuousClock.now
            let replaced = try await alice.run(["telepresence", "replace", "shop", "-c", "app"], timeout: .seconds(90))
            try #require(replaced.status == 0, "\(replaced.combined)")
            try await waitUntil("shop's pods to run without the app container and answer from alice", timeout: .seconds(60)) {
                let containers = try await admin.shopContainers()
                guard !containers.isEmpty, containers.allSatisfy({ !$0.contains("app") && $0.contains("logger") }) else { return false }
                return (try? await admin.fromCluster("http://shop/replaced"))?.contains("\"pod\":\"alice\"") == true
            }
            print("replace until the workstation answers: \(ContinuousClock.now - started)")
            // Every declared port of the container comes to the workstation: the TCP echo too.
            #expect(try await admin.inCluster(["sh", "-c", "echo replaced | timeout 5 python3 -c \(InterceptTests.tcpClient.shellQuoted) shop 9000"]) == "replaced")
            let listing = try await alice.expectSuccess(["telepresence", "list", "--replacements", "--output", "json", "--detailed-output"])
            #expect(Self.engagements(in: listing, workload: "shop").first?["kind"] as? String == "replace", "\(listing)")

            let leaving = ContinuousClock.now
            try await alice.expectSuccess(["telepresence", "leave", "shop", "-c", "app"])
            try await waitUntil("shop's app container to come back and answer", timeout: .seconds(60)) {
                let containers = try await admin.shopContainers()
                guard !containers.isEmpty, containers.allSatisfy({ $0.contains("app") && $0.contains("logger") }) else { return false }
                return (try? await admin.fromCluster("http://shop/back"))?.contains("\"pod\":\"shop-") == true
            }
            print("leave until the app answers again: \(ContinuousClock.now - leaving)")
            // The template is the user's again (but for the annotation that rolled the pods).
            #expect(InterceptTests.same(InterceptTests.withoutRestartedAt(try await admin.template("shop")), before))
        }
    }

    @Test func ingestChangesNothingInTheClusterAndGivesTheEnvironment() async throws {
        try await Workstation.withManager { admin in
            try await admin.deployInterceptApps()
            let alice = try await admin.addWorkstation("alice")
            let bob = try await admin.addWorkstation("bob")
            for ws in [alice, bob] { try await ws.expectSuccess(["telepresence", "connect"]) }
            // The first engagement of a workload installs its agent (a roll); what follows changes nothing.
            let first = try await alice.run(["telepresence", "ingest", "echo-sym"], timeout: .seconds(90))
            try #require(first.status == 0, "\(first.combined)")
            try await alice.expectSuccess(["telepresence", "leave", "echo-sym"])
            try await admin.expectSuccess(["kubectl", "rollout", "status", "deployment/echo-sym", "--timeout=60s"])
            let templateBefore = try await admin.expectSuccess(["kubectl", "get", "deployment", "echo-sym", "-o", "jsonpath={.spec.template}"])
            let podsBefore = try await admin.podSpecs("echo-sym")

            // Two developers ingest at once; each gets the container's environment.
            for ws in [alice, bob] {
                let envFile = ws.home.appendingPathComponent("echo.env").path
                let result = try await ws.run(
                    ["telepresence", "ingest", "echo-sym", "-c", "echo", "--env-file", envFile, "--env-syntax", "sh"], timeout: .seconds(60))
                #expect(result.status == 0, "\(ws.workstation!): \(result.combined)")
                let sourced = try await ws.run(["sh", "-c", ". \(envFile) && echo \"$GREETING/$COLOR/$DERIVED\""])
                #expect(sourced.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hello/blue/hello-derived", "\(sourced.combined)")
            }
            let listing = try await bob.expectSuccess(["telepresence", "list", "--ingests", "--output", "json", "--detailed-output"])
            #expect(Self.engagements(in: listing, workload: "echo-sym").filter { $0["kind"] as? String == "ingest" }.count == 2, "\(listing)")
            // No traffic moved: the app answers.
            #expect(try await admin.fromCluster("http://echo-sym/ingested").contains("\"pod\":\"echo-sym-"))
            // Nothing in the cluster changed: the same template byte for byte, the same pods.
            #expect(try await admin.expectSuccess(["kubectl", "get", "deployment", "echo-sym", "-o", "jsonpath={.spec.template}"]) == templateBefore)
            #expect(try await admin.podSpecs("echo-sym") == podsBefore)
            for ws in [alice, bob] { try await ws.expectSuccess(["telepresence", "leave", "echo-sym", "-c", "echo"]) }
            #expect(try await admin.podSpecs("echo-sym") == podsBefore)
        }
    }

    /// The engagements of `workload` in `list --output json --detailed-output`.
    static func engagements(in listing: String, workload: String) -> [[String: Any]] {
        let rows = (try? JSONSerialization.jsonObject(with: Data(listing.utf8))) as? [[String: Any]] ?? []
        return rows.filter { ($0["name"] as? String) == workload }.flatMap { $0["engagements"] as? [[String: Any]] ?? [] }
    }
}

extension Workstation {
    /// `shop`: an app container (HTTP 8080, TCP 9000) beside a sidecar, behind a Service.
    func deployShop() async throws {
        let manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: shop}
            spec:
              replicas: 2
              selector: {matchLabels: {app: shop}}
              template:
                metadata: {labels: {app: shop}}
                spec:
                  containers:
                  - name: app
                    image: sandbox.local/echo:1
                    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                    ports: [{name: http, containerPort: 8080}, {name: tcp, containerPort: 9000}]
                  - name: logger
                    image: sandbox.local/shell
                    command: [sleep, "3600"]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: shop}
            spec:
              selector: {app: shop}
              ports:
              - {name: http, port: 80, targetPort: http}
              - {name: tcp, port: 9000, targetPort: tcp}
            """
        try await apply(manifest, deployments: ["shop"], clientPod: true)
    }

    /// The container names of each current shop pod (terminating ones left out).
    func shopContainers() async throws -> [[String]] {
        let text = try await expectSuccess([
            "kubectl", "get", "pods", "-l", "app=shop", "-o",
            "jsonpath={range .items[*]}{.metadata.deletionTimestamp}/{.spec.containers[*].name};{end}",
        ])
        return text.split(separator: ";").compactMap { entry in
            let parts = entry.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].isEmpty else { return nil }
            return parts[1].split(separator: " ").map(String.init)
        }
    }

    /// Each pod of `deployment`: its name, uid and spec, as kubectl prints them.
    func podSpecs(_ deployment: String) async throws -> [String] {
        let text = try await expectSuccess([
            "kubectl", "get", "pods", "-l", "app=\(deployment)", "-o",
            "jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} {.spec}{\"\\n\"}{end}",
        ])
        return text.split(separator: "\n").map(String.init).sorted()
    }
}
