import Foundation
import PKI
import Sandbox
import TestSupport
import Testing

/// The sandbox's parts working together as a user meets them: a real `sandbox-cluster up`
/// (process node, cluster network, DNS), kubectl and the Python client, workloads of the echo
/// app and of the shell image. Each test has its own cluster and asserts after `down` that
/// nothing of it is left. Needs root and network namespaces; under CI=true their absence fails.
@Suite("Cluster end to end (sandbox-cluster up, process node, kubectl)", .serialized, .enabled(where: .clusterNetwork))
struct ClusterEndToEndTests {
    // MARK: Workloads

    /// The echo app (2 replicas, ready once HTTP listens), its Service (http 80 -> 8080 by name,
    /// tcp 9000, udp 9001), a headless Service, and a shell pod used as the in-cluster client.
    static func echoWorkloads(replicas: Int = 2) -> [[String: Any]] {
        let labels = ["app": "echo"]
        let container: [String: Any] = [
            "name": "echo", "image": "sandbox.local/echo",
            "env": [["name": "ECHO_ENV", "value": "V"], ["name": "V", "value": "1"]],
            "ports": [
                ["name": "http", "containerPort": 8080], ["name": "tcp", "containerPort": 9000],
                ["name": "udp", "containerPort": 9001, "protocol": "UDP"],
            ],
            "readinessProbe": ["tcpSocket": ["port": 8080], "periodSeconds": 1],
        ]
        return [
            [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "echo"],
                "spec": [
                    "replicas": replicas, "selector": ["matchLabels": labels],
                    "template": ["metadata": ["labels": labels], "spec": ["terminationGracePeriodSeconds": 5, "containers": [container]]],
                ] as [String: Any],
            ],
            [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "echo"],
                "spec": [
                    "selector": labels,
                    "ports": [
                        ["name": "http", "port": 80, "targetPort": "http"], ["name": "tcp", "port": 9000, "targetPort": 9000],
                        ["name": "udp", "port": 9001, "targetPort": 9001, "protocol": "UDP"],
                    ],
                ] as [String: Any],
            ],
            [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "echo-headless"],
                "spec": ["clusterIP": "None", "selector": labels, "ports": [["name": "http", "port": 8080]]] as [String: Any],
            ],
            shellPod("client"),
        ]
    }

    static func shellPod(_ name: String, labels: [String: String] = ["role": "client"]) -> [String: Any] {
        [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": name, "labels": labels] as [String: Any],
            "spec": ["terminationGracePeriodSeconds": 1, "containers": [["name": "shell", "image": "busybox", "command": ["sleep", "3600"]]]],
        ]
    }

    /// A `kubectl apply -f -` stream of these objects: JSON objects one after another (kubectl
    /// reads a stream that starts with `{` as JSON), so the embedded scripts need no YAML quoting.
    static func manifest(_ items: [[String: Any]]) throws -> String {
        try items.map {
            String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }

    /// Applies the echo workloads and waits for them; returns the echo pods' names by IP.
    static func startEcho(_ cluster: LiveCluster, replicas: Int = 2) async throws -> [String: String] {
        try await cluster.apply(try manifest(echoWorkloads(replicas: replicas)))
        try await cluster.waitReady("app=echo")
        try await cluster.waitReady("role=client")
        return try await podsByIP(cluster, "app=echo")
    }

    static func podsByIP(_ cluster: LiveCluster, _ selector: String) async throws -> [String: String] {
        let lines = try await cluster.jsonpath(["pods", "-l", selector], #"{range .items[*]}{.status.podIP} {.metadata.name}{"\n"}{end}"#)
        var pods: [String: String] = [:]
        for line in lines.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { pods[String(parts[0])] = String(parts[1]) }
        }
        return pods
    }

    /// The echo app's answer to an HTTP request: which pod answered, and its echoed env.
    struct EchoAnswer: Decodable {
        var pod: String
        var path: String
        var env: [String: String]
    }

    // MARK: Scripts run inside pods (python3 and curl come from the host, as the shell image runs them)

    /// Sends `hello-PROTO` to HOST:PORT over TCP or UDP and prints what comes back.
    static let socketScript = #"""
        import socket, sys
        proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
        message = ("hello-" + proto).encode()
        if proto == "tcp":
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(message)
            data = b""
            while len(data) < len(message):
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            s.close()
        else:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.settimeout(5)
            u.sendto(message, (host, port))
            data = u.recvfrom(4096)[0]
        print(data.decode())
        """#

    /// Prints `NAME ADDRESS...` (IPv4, sorted) or `NAME error ...` per name, as the pod's
    /// resolver (resolv.conf search path, ndots 5) finds them.
    static let resolveScript = #"""
        import socket, sys
        for name in sys.argv[1:]:
            try:
                addresses = sorted({a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)})
                print(name, " ".join(addresses))
            except Exception as e:
                print(name, "error", type(e).__name__)
        """#

    // MARK: Tests

    @Test("pod-to-service and pod-to-pod TCP and UDP; DNS names from inside a pod (short, svc.ns, fqdn, headless)")
    func trafficAndDNS() async throws {
        try await LiveCluster.with("tr") { cluster in
            let pods = try await Self.startEcho(cluster)
            #expect(pods.count == 2, "\(pods)")
            let clusterIP = try await cluster.jsonpath(["service", "echo"], "{.spec.clusterIP}")
            #expect(clusterIP.hasPrefix("10.96."), "\(clusterIP)")

            // HTTP through the service by each DNS form, and to each pod directly.
            for (index, host) in ["echo", "echo.default", "echo.default.svc.cluster.local", clusterIP].enumerated() {
                let result = try await cluster.exec("client", ["curl", "-sS", "--max-time", "5", "http://\(host)/via-\(index)"])
                #expect(result.status == 0, "curl http://\(host): \(result.combined)")
                let answer = try? JSONDecoder().decode(EchoAnswer.self, from: Data(result.stdout.utf8))
                #expect(answer.map { pods.values.contains($0.pod) } == true && answer?.path == "/via-\(index)", "\(host): \(result.combined)")
            }
            for (ip, name) in pods {
                let result = try await cluster.exec("client", ["curl", "-sS", "--max-time", "5", "http://\(ip):8080/direct"])
                let answer = try? JSONDecoder().decode(EchoAnswer.self, from: Data(result.stdout.utf8))
                #expect(answer?.pod == name, "http://\(ip):8080: \(result.combined)")
            }

            // Cluster DNS is served by Ready coredns pods behind kube-dns, as in every cluster: the
            // kube-dns slice lists them, and each answers a query sent to its own address.
            let ready = try await cluster.kubectl(["wait", "--for=condition=Ready", "pod", "-l", "k8s-app=kube-dns", "-n", "kube-system", "--timeout=60s"],
                                                  timeout: .seconds(70))
            #expect(ready.status == 0, "\(ready.combined)")
            let dnsPods = try await cluster.jsonpath(["pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"], "{.items[*].status.podIP}")
                .split(separator: " ").map(String.init)
            #expect(dnsPods.count == 2, "\(dnsPods)")
            let sliced = try await cluster.jsonpath(["endpointslices", "-n", "kube-system", "-l", "kubernetes.io/service-name=kube-dns"],
                                                    "{.items[*].endpoints[*].addresses[0]}")
            #expect(Set(sliced.split(separator: " ").map(String.init)) == Set(dnsPods), "\(sliced)")
            for ip in dnsPods {
                let answer = try await cluster.exec("client", ["dig", "+short", "+time=2", "@\(ip)", "echo.default.svc.cluster.local"])
                #expect(answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == clusterIP, "dig @\(ip): \(answer.combined)")
            }

            // TCP and UDP echo, through the service and to a pod IP.
            for host in ["echo", "echo.default.svc.cluster.local"] + pods.keys.sorted() {
                for (proto, port) in [("tcp", 9000), ("udp", 9001)] {
                    let result = try await cluster.exec("client", ["python3", "-c", Self.socketScript, proto, host, String(port)])
                    #expect(result.status == 0 && result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "hello-\(proto)",
                            "\(proto) to \(host):\(port): \(result.combined)")
                }
            }

            // DNS: the service's forms resolve to its ClusterIP, the headless one to the pod IPs,
            // a name outside the cluster to nothing.
            let names = ["echo", "echo.default", "echo.default.svc.cluster.local", "echo-headless",
                         "echo-headless.default.svc.cluster.local", "kubernetes.default", "nothing.example"]
            let resolved = try await cluster.exec("client", ["python3", "-c", Self.resolveScript] + names)
            #expect(resolved.status == 0, "\(resolved.combined)")
            let lines = resolved.stdout.split(separator: "\n").map(String.init)
            let podIPs = pods.keys.sorted().joined(separator: " ")
            for expected in [
                "echo \(clusterIP)", "echo.default \(clusterIP)", "echo.default.svc.cluster.local \(clusterIP)",
                "echo-headless \(podIPs)", "echo-headless.default.svc.cluster.local \(podIPs)", "kubernetes.default 10.96.0.1",
            ] {
                #expect(lines.contains(expected), "expected '\(expected)' in \(lines)")
            }
            #expect(lines.contains { $0.hasPrefix("nothing.example error") }, "\(lines)")
        }
    }

    /// Requests `http://echo/` in a loop (a new connection and name lookup each) until the file
    /// `STOP` exists; prints one JSON line with the counts (per echoed V) and the first errors.
    /// A request that takes over 2 s (a lost DNS query costs the resolver's 5 s) is a failure.
    static let loopScript = #"""
        import json, os, sys, time, urllib.request
        stop, started = sys.argv[1], sys.argv[2]
        ok = fail = 0
        versions, errors = {}, []
        deadline = time.time() + 120
        while not os.path.exists(stop) and time.time() < deadline:
            begun = time.time()
            try:
                with urllib.request.urlopen("http://echo/", timeout=3) as response:
                    body = json.loads(response.read())
                took = time.time() - begun
                if took > 2:
                    raise TimeoutError("the request took %.1f s" % took)
                version = body["env"].get("V", "?")
                versions[version] = versions.get(version, 0) + 1
                ok += 1
                if ok == 1:
                    open(started, "w").close()
            except Exception as e:
                fail += 1
                errors.append(repr(e))
            time.sleep(0.01)
        print(json.dumps({"ok": ok, "fail": fail, "versions": versions, "errors": errors[:5]}))
        """#

    struct LoopResult: Decodable {
        var ok: Int
        var fail: Int
        var versions: [String: Int]
        var errors: [String]
    }

    @Test("a rolling update keeps the service answering: no failed request from a pod during set env and rollout status")
    func rollingUpdate() async throws {
        try await LiveCluster.with("ru") { cluster in
            let before = try await Self.startEcho(cluster)
            let tag = UUID().uuidString.prefix(8)
            // Files in the client container's own /tmp: the test's signals to the loop.
            let stop = "/tmp/e2e-stop-\(tag)", started = "/tmp/e2e-started-\(tag)"
            async let loop = cluster.exec("client", ["python3", "-c", Self.loopScript, stop, started], timeout: .seconds(150))
            let running = try await eventually(timeout: 30) { try await cluster.exec("client", ["test", "-e", started]).status == 0 }
            var stopped = false
            do {
                try #require(running, "the request loop in the client pod did not get a first answer")
                let set = try await cluster.kubectl(["set", "env", "deployment/echo", "V=2"])
                try #require(set.status == 0, "\(set.combined)")
                let rollout = try await cluster.kubectl(["rollout", "status", "deployment/echo", "--timeout=90s"], timeout: .seconds(100))
                #expect(rollout.status == 0 && rollout.stdout.contains("successfully rolled out"), "\(rollout.combined)")
                // Until the old pods are gone (their termination is where a race would show).
                let replaced = try await eventually(timeout: 30) {
                    let now = try await Self.podsByIP(cluster, "app=echo")
                    return now.count == 2 && Set(now.values).isDisjoint(with: before.values)
                }
                #expect(replaced, "the old pods \(before.values.sorted()) were not replaced")
                let stopSignal = try await cluster.exec("client", ["touch", stop])
                stopped = stopSignal.status == 0
                #expect(stopped, "\(stopSignal.combined)")
            } catch {
                if !stopped { _ = try? await cluster.exec("client", ["touch", stop]) }
                _ = try? await loop
                throw error
            }
            let output = try await loop
            _ = try? await cluster.exec("client", ["rm", "-f", stop, started])
            let result = try? JSONDecoder().decode(LoopResult.self, from: Data((output.stdout.split(separator: "\n").last ?? "").utf8))
            let counts = try #require(result, "the loop's output: \(output.combined)")
            print("rolling update: \(counts.ok) answers (\(counts.versions)), \(counts.fail) failures \(counts.errors)")
            #expect(counts.fail == 0, "requests failed during the rolling update: \(counts.errors)")
            #expect((counts.versions["1"] ?? 0) > 0 && (counts.versions["2"] ?? 0) > 0, "\(counts.versions)")
        }
    }

    /// The webhook: an HTTPS server (cert and key from the Secret volume at /tls) that answers
    /// every AdmissionReview with a JSON patch adding a `sidecar` container.
    static let webhookScript = #"""
        import base64, http.server, json, ssl
        PATCH = [{"op": "add", "path": "/spec/containers/-",
                  "value": {"name": "sidecar", "image": "busybox", "command": ["sleep", "3600"]}}]
        class Hook(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                review = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                          "response": {"uid": review["request"]["uid"], "allowed": True, "patchType": "JSONPatch",
                                       "patch": base64.b64encode(json.dumps(PATCH).encode()).decode()}}
                body = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, format, *args):
                print("webhook:", format % args, flush=True)
        server = http.server.HTTPServer(("0.0.0.0", 8443), Hook)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain("/tls/tls.crt", "/tls/tls.key")
        server.socket = context.wrap_socket(server.socket, server_side=True)
        print("webhook: serving on 8443", flush=True)
        server.serve_forever()
        """#

    @Test("a mutating webhook served by a pod injects a sidecar container that then runs, with its Event")
    func webhookInjectsSidecar() async throws {
        try await LiveCluster.with("wh") { cluster in
            let authority = try CertificateAuthority(commonName: "e2e webhook CA")
            let leaf = try authority.issueServerCertificate(
                commonName: "webhook.default.svc", dnsNames: ["webhook.default.svc", "webhook.default.svc.cluster.local"])
            let base64 = { (text: String) in Data(text.utf8).base64EncodedString() }
            let labels = ["app": "webhook"]
            try await cluster.apply(try Self.manifest([
                ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "webhook-tls"], "type": "kubernetes.io/tls",
                 "data": ["tls.crt": base64(leaf.certificatePEM), "tls.key": base64(leaf.privateKeyPEM)]],
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "webhook-code"], "data": ["hook.py": Self.webhookScript]],
                ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "webhook", "labels": labels] as [String: Any],
                 "spec": [
                    "terminationGracePeriodSeconds": 1,
                    "containers": [[
                        "name": "hook", "image": "sandbox.local/shell", "command": ["python3", "/app/hook.py"],
                        "ports": [["name": "https", "containerPort": 8443]],
                        "readinessProbe": ["tcpSocket": ["port": 8443], "periodSeconds": 1],
                        "volumeMounts": [["name": "tls", "mountPath": "/tls", "readOnly": true], ["name": "code", "mountPath": "/app"]],
                    ] as [String: Any]],
                    "volumes": [["name": "tls", "secret": ["secretName": "webhook-tls"]], ["name": "code", "configMap": ["name": "webhook-code"]]],
                 ] as [String: Any]],
                ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "webhook"],
                 "spec": ["selector": labels, "ports": [["port": 443, "targetPort": "https"]]] as [String: Any]],
            ]))
            try await cluster.waitReady("app=webhook")
            try await cluster.apply(try Self.manifest([[
                "apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration", "metadata": ["name": "sidecar-injector"],
                "webhooks": [[
                    "name": "sidecar.e2e.sandbox.test", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                    "failurePolicy": "Fail", "timeoutSeconds": 5,
                    "clientConfig": [
                        "service": ["namespace": "default", "name": "webhook", "path": "/mutate", "port": 443] as [String: Any],
                        "caBundle": base64(try authority.certificatePEM),
                    ] as [String: Any],
                    "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]],
                    "objectSelector": ["matchLabels": ["inject": "sidecar"]],
                ] as [String: Any]],
            ]]))
            // The service rules follow the webhook pod's readiness within milliseconds; until
            // then the API server's call is refused and (failurePolicy Fail) the create fails.
            let app = try Self.manifest([Self.shellPod("app", labels: ["inject": "sidecar", "role": "app"])])
            var lastAttempt = ""
            let created = try await eventually(timeout: 20) {
                let result = try await cluster.kubectl(["create", "-f", "-"], stdin: app)
                lastAttempt = result.combined
                return result.status == 0
            }
            try #require(created, "kubectl create of the labelled pod: \(lastAttempt)")
            let containers = try await cluster.jsonpath(["pod", "app"], "{.spec.containers[*].name}")
            #expect(containers == "shell sidecar", "\(containers)")
            try await cluster.waitReady("role=app")
            let sidecar = try await cluster.jsonpath(["pod", "app"], #"{.status.containerStatuses[?(@.name=="sidecar")].state.running.startedAt}"#)
            #expect(!sidecar.isEmpty, "the injected sidecar is not running")
            let inSidecar = try await cluster.kubectl(["exec", "app", "-c", "sidecar", "--", "sh", "-c", "echo $HOSTNAME"])
            #expect(inSidecar.status == 0 && inSidecar.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "app", "\(inSidecar.combined)")
            let events = try await cluster.jsonpath(["events"], #"{range .items[*]}{.involvedObject.name} {.reason} {.message}{"\n"}{end}"#)
            #expect(events.split(separator: "\n").contains { $0.hasPrefix("app AdmissionWebhookPatched") && $0.contains("sidecar.e2e.sandbox.test") },
                    "\(events)")
            // The webhook pod served the call (its log), and a pod without the label is left alone.
            let log = try await cluster.kubectl(["logs", "webhook"])
            #expect(log.stdout.contains("POST /mutate"), "\(log.combined)")
            try await cluster.apply(try Self.manifest([Self.shellPod("plain", labels: ["role": "plain"])]))
            let plain = try await cluster.jsonpath(["pod", "plain"], "{.spec.containers[*].name}")
            #expect(plain == "shell", "\(plain)")
        }
    }

    @Test("env and volume contents seen by a container are as the pod spec says")
    func environmentAndVolumes() async throws {
        // The container's program lives under /tmp on the host, where its own emptyDir at /tmp
        // hides it once mounted (as a checkout under /tmp and the traffic-agent's /tmp do).
        let programs = URL(fileURLWithPath: "/tmp/sbx-exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: programs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: programs) }
        let sleeper = programs.appendingPathComponent("sleep").path
        try FileManager.default.copyItem(atPath: "/bin/sleep", toPath: sleeper)
        try await LiveCluster.with("ev") { cluster in
            try await cluster.apply(try Self.manifest([
                ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings"], "data": ["greeting": "hello", "app.conf": "mode=fast\n"]],
                ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "creds"], "data": ["password": Data("s3cret".utf8).base64EncodedString()]],
                ["apiVersion": "v1", "kind": "Pod",
                 "metadata": ["name": "inspect", "labels": ["tier": "backend", "role": "inspect"], "annotations": ["note": "from-the-spec"]] as [String: Any],
                 "spec": [
                    "terminationGracePeriodSeconds": 1,
                    "containers": [[
                        "name": "shell", "image": "busybox", "command": [sleeper, "3600"], "workingDir": "/etc/config",
                        "env": [
                            ["name": "GREETING", "valueFrom": ["configMapKeyRef": ["name": "settings", "key": "greeting"]]],
                            ["name": "PASSWORD", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "password"]]],
                            ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                            ["name": "POD_NAMESPACE", "valueFrom": ["fieldRef": ["fieldPath": "metadata.namespace"]]],
                            ["name": "POD_IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
                            ["name": "NODE", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]],
                            ["name": "COMBINED", "value": "$(GREETING)-$(POD_NAME)"],
                        ] as [[String: Any]],
                        "envFrom": [["prefix": "CFG_", "configMapRef": ["name": "settings"]]],
                        "volumeMounts": [
                            ["name": "config", "mountPath": "/etc/config"], ["name": "creds", "mountPath": "/etc/creds", "readOnly": true],
                            ["name": "podinfo", "mountPath": "/etc/podinfo"], ["name": "scratch", "mountPath": "/scratch"],
                            // An emptyDir over /tmp (where the node's state may live, as the
                            // traffic-agent's is) and a mount point whose parent is new at /.
                            ["name": "tmp", "mountPath": "/tmp"], ["name": "config", "mountPath": "/newtop/config"],
                        ],
                    ] as [String: Any]],
                    "volumes": [
                        ["name": "config", "configMap": ["name": "settings"]], ["name": "creds", "secret": ["secretName": "creds"]],
                        ["name": "podinfo", "downwardAPI": ["items": [
                            ["path": "name", "fieldRef": ["fieldPath": "metadata.name"]],
                            ["path": "labels", "fieldRef": ["fieldPath": "metadata.labels"]],
                            ["path": "annotations", "fieldRef": ["fieldPath": "metadata.annotations"]],
                        ]]],
                        ["name": "scratch", "emptyDir": [String: Any]()], ["name": "tmp", "emptyDir": [String: Any]()],
                    ] as [[String: Any]],
                 ] as [String: Any]],
            ]))
            try await cluster.waitReady("role=inspect")
            let podIP = try await cluster.jsonpath(["pod", "inspect"], "{.status.podIP}")
            let node = try await cluster.jsonpath(["pod", "inspect"], "{.spec.nodeName}")
            let env = try await cluster.exec("inspect", ["sh", "-c",
                #"echo "$GREETING|$PASSWORD|$POD_NAME|$POD_NAMESPACE|$POD_IP|$NODE|$COMBINED|$CFG_greeting|$(pwd)""#])
            #expect(env.status == 0, "\(env.combined)")
            #expect(env.stdout.trimmingCharacters(in: .newlines) == "hello|s3cret|inspect|default|\(podIP)|\(node)|hello-inspect|hello|/etc/config",
                    "\(env.combined)")
            let files = try await cluster.exec("inspect", ["sh", "-c", """
                cat /etc/config/app.conf; cat /etc/config/greeting; echo; cat /etc/creds/password; echo
                cat /etc/podinfo/name; echo; cat /etc/podinfo/labels; echo; cat /etc/podinfo/annotations; echo
                cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo
                ls /var/run/secrets/kubernetes.io/serviceaccount | tr '\\n' ' '; echo
                echo kept > /scratch/file && cat /scratch/file
                cat /newtop/config/greeting; echo; ls -A /tmp | wc -l
                """])
            #expect(files.status == 0, "\(files.combined)")
            let lines = files.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let expected = ["mode=fast", "hello", "s3cret", "inspect", "role=\"inspect\"", "tier=\"backend\"", "note=\"from-the-spec\"",
                            "default", "ca.crt namespace token ", "kept", "hello", "0"]
            // kubectl apply's own annotation is there too, quoted onto one line as the kubelet does.
            let lastApplied = "kubectl.kubernetes.io/last-applied-configuration="
            #expect(lines.filter { !$0.isEmpty && !$0.hasPrefix(lastApplied) } == expected, "\(files.combined)")
            #expect(lines.contains { $0.hasPrefix(lastApplied + #""{\"apiVersion\":\"v1\","#) && $0.hasSuffix(#"}\n""#) }, "\(files.combined)")
            // The secret volume is mounted read-only, as the spec says.
            let write = try await cluster.exec("inspect", ["sh", "-c", "echo x > /etc/creds/new"])
            #expect(write.status != 0, "writing into the read-only secret volume succeeded")
        }
    }

    /// Forwards ports 8080 and 9000 of an echo pod with the Python client; prints the HTTP
    /// answer's pod and whether 1 MiB came back unchanged through the TCP echo.
    static let portForwardScript = #"""
        import hashlib, json, sys
        from kubernetes import client, config
        from kubernetes.stream import portforward
        config.load_kube_config(sys.argv[1])
        v1 = client.CoreV1Api()
        pf = portforward(v1.connect_get_namespaced_pod_portforward, sys.argv[2], "default", ports="8080,9000")
        http = pf.socket(8080)
        http.setblocking(True)
        http.settimeout(20)
        http.sendall(b"GET /forwarded HTTP/1.1\r\nHost: x\r\n\r\n")
        # The forwarded stream does not end when the pod's side closes (the protocol has no
        # per-stream close), so the answer is read by its Content-Length.
        data = b""
        while b"\r\n\r\n" not in data:
            data += http.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int([line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")][0])
        while len(body) < length:
            body += http.recv(65536)
        print("http", json.loads(body)["pod"])
        tcp = pf.socket(9000)
        tcp.setblocking(True)
        tcp.settimeout(20)
        payload = bytes(range(256)) * 4096
        tcp.sendall(payload)
        back = b""
        while len(back) < len(payload):
            chunk = tcp.recv(65536)
            if not chunk:
                break
            back += chunk
        print("tcp", len(back), hashlib.sha256(back).hexdigest() == hashlib.sha256(payload).hexdigest())
        tcp.close()
        pf.close()
        """#

    @Test("the Python client's portforward reaches the echo app's HTTP and TCP echo in a real pod",
          .enabled(if: PythonClientTests.available || Kubectl.isCI))
    func pythonPortForward() async throws {
        try #require(PythonClientTests.available, "the Python kubernetes client is not importable; pip install kubernetes==33.1.0")
        try await LiveCluster.with("pf") { cluster in
            let pods = try await Self.startEcho(cluster, replicas: 1)
            let pod = try #require(pods.values.first)
            let script = cluster.runtime.appendingPathComponent("portforward.py")
            try Self.portForwardScript.write(to: script, atomically: true, encoding: .utf8)
            let result = try await ProcessRunner.run([PythonClientTests.python, script.path, cluster.kubeconfig.path, pod], timeout: .seconds(90))
            #expect(result.status == 0, "\(result.combined)")
            #expect(result.stdout.contains("http \(pod)"), "\(result.combined)")
            #expect(result.stdout.contains("tcp \(1 << 20) True"), "\(result.combined)")
        }
    }

    @Test("a pod's own service-account token works for what its account may do; 403 for the rest and for another account")
    func podServiceAccountToken() async throws {
        try await LiveCluster.with("sa") { cluster in
            var reader = Self.shellPod("reader", labels: ["role": "reader"])
            reader["spec"] = ["serviceAccountName": "reader", "terminationGracePeriodSeconds": 1,
                              "containers": [["name": "shell", "image": "busybox", "command": ["sleep", "3600"]]]] as [String: Any]
            try await cluster.apply(try Self.manifest([
                ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "reader"]],
                ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "pod-reader"],
                 "rules": [["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]]]] as [String: Any],
                ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": "reader"],
                 "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"],
                 "subjects": [["kind": "ServiceAccount", "name": "reader"]]] as [String: Any],
                reader, Self.shellPod("other", labels: ["role": "other"]),
            ]))
            try await cluster.waitReady("role=reader")
            try await cluster.waitReady("role=other")
            // What an in-cluster client does: the mounted token and CA, the kubernetes service.
            let request = #"dir=/var/run/secrets/kubernetes.io/serviceaccount; curl -s --cacert $dir/ca.crt -H "Authorization: Bearer $(cat $dir/token)" -w ' %{http_code}' "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/$(cat $dir/namespace)/$1""#
            let pods = try await cluster.exec("reader", ["sh", "-c", request, "sh", "pods"])
            #expect(pods.stdout.contains(#""kind":"PodList""#) && pods.stdout.hasSuffix(" 200"), "\(pods.combined)")
            let secrets = try await cluster.exec("reader", ["sh", "-c", request, "sh", "secrets"])
            #expect(secrets.stdout.contains(#"secrets is forbidden: User \"system:serviceaccount:default:reader\" cannot list resource \"secrets\" in API group \"\" in the namespace \"default\""#)
                    && secrets.stdout.hasSuffix(" 403"), "\(secrets.combined)")
            let other = try await cluster.exec("other", ["sh", "-c", request, "sh", "pods"])
            #expect(other.stdout.contains(#"User \"system:serviceaccount:default:default\" cannot list resource \"pods\""#)
                    && other.stdout.hasSuffix(" 403"), "\(other.combined)")
        }
    }

    @Test("kubectl exec passes the exit code and both streams through; kubectl logs, and logs -f ends with the container")
    func execAndLogs() async throws {
        try await LiveCluster.with("ex") { cluster in
            let pods = try await Self.startEcho(cluster, replicas: 1)
            let echoPod = try #require(pods.values.first)
            let failing = try await cluster.exec("client", ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"])
            #expect(failing.status == 3, "\(failing.combined)")
            #expect(failing.stdout == "to-out\n" && failing.stderr.contains("to-err"), "\(failing.combined)")
            let input = try await cluster.kubectl(["exec", "-i", "client", "--", "tr", "a-z", "A-Z"], stdin: "piped through\n")
            #expect(input.status == 0 && input.stdout == "PIPED THROUGH\n", "\(input.combined)")
            let missing = try await cluster.exec("client", ["no-such-command"])
            #expect(missing.status != 0 && missing.combined.contains("no-such-command"), "\(missing.combined)")

            let logs = try await cluster.kubectl(["logs", echoPod])
            #expect(logs.status == 0 && logs.stdout.contains("sandbox-echo \(echoPod): HTTP on 8080, TCP echo on 9000, UDP echo on 9001"),
                    "\(logs.combined)")

            // `logs -f` follows a running container and ends when it exits.
            try await cluster.apply(try Self.manifest([[
                "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "talker", "labels": ["role": "talker"]] as [String: Any],
                "spec": ["restartPolicy": "Never", "containers": [[
                    "name": "talk", "image": "busybox", "command": ["sh", "-c", "echo first; sleep 3; echo second; sleep 1; echo last"],
                ]]] as [String: Any],
            ]]))
            try await cluster.waitReady("role=talker")
            let started = ContinuousClock.now
            let follow = try await cluster.kubectl(["logs", "-f", "talker"], timeout: .seconds(30))
            let followed = ContinuousClock.now - started
            #expect(follow.status == 0 && follow.stdout == "first\nsecond\nlast\n", "\(follow.combined)")
            // It followed the container to its end (the three lines, then exit), which the 30 s
            // time limit of the kubectl run bounds; the time itself is printed.
            print("kubectl logs -f followed the container for \(followed)")
            let phase = try await cluster.jsonpath(["pod", "talker"], "{.status.phase}")
            #expect(phase == "Succeeded", "\(phase)")
        }
    }

    @Test("up --link-delay-ms 5: ping from the workstation namespace to the API server shows at least 10 ms")
    func delayedLink() async throws {
        try await LiveCluster.with("dl", upArguments: ["--link-delay-ms", "5"]) { cluster in
            let executable = try #require(SandboxClusterCLITests.executable)
            let ping = try await ProcessRunner.run(
                [executable.path, "run", "--name", cluster.name, "--", "ping", "-c", "5", "-i", "0.2", "-q", "192.0.2.1"],
                environment: cluster.environment, timeout: .seconds(30))
            #expect(ping.status == 0, "\(ping.combined)")
            // rtt min/avg/max/mdev = 10.3/10.5/10.9/0.2 ms
            let figures = ping.stdout.split(separator: "\n").first { $0.contains("min/avg/max") }?
                .split(separator: "=").last?.split(separator: "/").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? []
            let minimum = try #require(figures.first, "\(ping.combined)")
            #expect(minimum >= 10, "ping's minimum round trip is \(minimum) ms: \(ping.stdout)")
            // kubectl from the workstation goes over the same link.
            let namespaces = try await ProcessRunner.run(
                [executable.path, "run", "--name", cluster.name, "--", "kubectl", "get", "ns", "kube-system", "-o", "name"],
                environment: cluster.environment.merging(["HOME": cluster.home.path]) { $1 }, timeout: .seconds(30))
            #expect(namespaces.stdout.contains("namespace/kube-system"), "\(namespaces.combined)")
        }
    }
}
