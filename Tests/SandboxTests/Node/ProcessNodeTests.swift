import ChildProcess
import Foundation
import KubeClient
import LinuxNet
import Testing
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// The process node: pods as processes in their own network and mount namespaces, over a node
/// namespace made by the fixture. Needs root; fails under CI=true when it cannot run.
@Suite(.serialized, .enabled(if: NodeFixture.enabled))
struct ProcessNodeTests {
    @Test func echoPodRunsWithItsAddressAndAnswersHTTPFromTheNodeNamespace() async throws {
        try await NodeFixture.with { node in
            let created = ContinuousClock.now
            try node.create(ResourceCatalog.pods, NodeFixture.echoPod("echo", env: [
                ["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                ["name": "ECHO_ENV", "value": "GREETING"], ["name": "GREETING", "value": "hello"],
            ]))
            let running = try await node.waitForPod("echo", poll: .milliseconds(2)) { $0.phase == "Running" }
            print("process node: pod Running \(ContinuousClock.now - created) after it was created")
            let ip = try #require(running["status"]?["podIP"]?.stringValue)
            #expect(ip.hasPrefix("10.244."))
            #expect(running["spec"]?["nodeName"]?.stringValue == "sandbox-node")
            // The server needs a moment to bind after its process started.
            var body = ""
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline {
                if let answer = try? await node.httpGet(ip, port: 8080, path: "/hello?x=1"), !answer.isEmpty {
                    body = answer
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            let json = try JSONValue(data: Data(body.utf8))
            #expect(json["pod"]?.stringValue == "echo")
            #expect(json["path"]?.stringValue == "/hello")
            #expect(json["query"]?.stringValue == "x=1")
            #expect(json["env"]?["GREETING"]?.stringValue == "hello")
            let ready = try await node.waitForPod("echo") { $0.condition("Ready") == "True" }
            #expect(ready.firstContainer?["ready"]?.boolValue == true)
        }
    }

    @Test func podsReachEachOtherOverTCPAndUDP() async throws {
        try await NodeFixture.with { node in
            try node.create(ResourceCatalog.pods, NodeFixture.echoPod("server"))
            let server = try await node.waitForPod("server") { $0.phase == "Running" }
            let ip = try #require(server["status"]?["podIP"]?.stringValue)
            let client = """
                import socket, time
                for attempt in range(100):
                    try:
                        t = socket.create_connection(("\(ip)", 9000), timeout=2); break
                    except OSError:
                        time.sleep(0.1)
                t.sendall(b"tcp-ping"); print("tcp:", t.recv(100).decode(), flush=True)
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(2)
                u.sendto(b"udp-ping", ("\(ip)", 9001)); print("udp:", u.recvfrom(100)[0].decode(), flush=True)
                """
            try node.create(ResourceCatalog.pods, NodeFixture.shellPod("client", script: "exec /usr/bin/python3 -c '\(client)'"))
            let done = try await node.waitForPod("client") { $0.phase == "Succeeded" || $0.phase == "Failed" }
            let log = try node.log("client", "main")
            #expect(done.phase == "Succeeded", "client log: \(log)")
            #expect(log.contains("tcp: tcp-ping"))
            #expect(log.contains("udp: udp-ping"))
        }
    }

    @Test func containerSeesTheEnvironmentAndVolumesItsSpecNames() async throws {
        try await NodeFixture.with { node in
            let configMaps = ResourceCatalog.lookup(apiVersion: "v1", plural: "configmaps")!
            let secrets = ResourceCatalog.lookup(apiVersion: "v1", plural: "secrets")!
            try node.create(configMaps, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings", "namespace": "default"],
                                         "data": ["mode": "fast", "file.txt": "from-configmap"]])
            try node.create(secrets, ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "creds", "namespace": "default"],
                                      "data": ["password": .string(Data("s3cret".utf8).base64EncodedString())]])
            try node.create(ResourceCatalog.services, ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "my-svc", "namespace": "default"],
                                                       "spec": ["selector": ["app": "x"], "ports": [["name": "web", "port": 80, "protocol": "TCP"]]]])
            let script = """
                env | sort; echo ---
                cat /config/file.txt; echo; cat /secret/pw; echo
                cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo
                head -c 27 /var/run/secrets/kubernetes.io/serviceaccount/ca.crt; echo
                cat /var/run/secrets/kubernetes.io/serviceaccount/token; echo
                cat /info/labels; echo; grep nameserver /etc/resolv.conf; grep search /etc/resolv.conf
                pwd; hostname; touch /config/x 2>/dev/null && echo writable || echo read-only
                """
            var pod = NodeFixture.shellPod("env", script: script, extra: [
                "volumes": [
                    ["name": "cfg", "configMap": ["name": "settings", "items": [["key": "file.txt", "path": "file.txt"]]]],
                    ["name": "sec", "secret": ["secretName": "creds", "items": [["key": "password", "path": "pw"]]]],
                    ["name": "info", "downwardAPI": ["items": [["path": "labels", "fieldRef": ["fieldPath": "metadata.labels"]]]]],
                    ["name": "work", "emptyDir": [:]],
                ],
            ], container: [
                "workingDir": "/work/dir",
                "env": [
                    ["name": "MODE", "valueFrom": ["configMapKeyRef": ["name": "settings", "key": "mode"]]],
                    ["name": "PASSWORD", "valueFrom": ["secretKeyRef": ["name": "creds", "key": "password"]]],
                    ["name": "MISSING", "valueFrom": ["configMapKeyRef": ["name": "nope", "key": "k", "optional": true]]],
                    ["name": "MY_POD", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
                    ["name": "MY_IP", "valueFrom": ["fieldRef": ["fieldPath": "status.podIP"]]],
                    ["name": "MY_NS", "valueFrom": ["fieldRef": ["fieldPath": "metadata.namespace"]]],
                    ["name": "COMBINED", "value": "$(MODE)-$(MY_POD)-$$(MODE)-$(UNDEFINED)"],
                ],
                "envFrom": [["prefix": "CFG_", "configMapRef": ["name": "settings"]]],
                "volumeMounts": [
                    ["name": "cfg", "mountPath": "/config", "readOnly": true],
                    ["name": "sec", "mountPath": "/secret"],
                    ["name": "info", "mountPath": "/info"],
                    ["name": "work", "mountPath": "/work/dir"],
                ],
            ])
            pod["metadata"]?["labels"] = ["tier": "test"]
            try node.create(ResourceCatalog.pods, pod)
            let done = try await node.waitForPod("env") { $0.phase == "Succeeded" || $0.phase == "Failed" }
            let log = try node.log("env", "main")
            #expect(done.phase == "Succeeded", "log: \(log)")
            let ip = done["status"]?["podIP"]?.stringValue ?? "?"
            let lines = Set(log.split(separator: "\n").map(String.init))
            for expected in [
                "MODE=fast", "PASSWORD=s3cret", "MY_POD=env", "MY_IP=\(ip)", "MY_NS=default",
                "COMBINED=fast-env-$(MODE)-$(UNDEFINED)", "CFG_mode=fast",
                "KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT=443",
                "MY_SVC_SERVICE_PORT=80", "MY_SVC_SERVICE_PORT_WEB=80", "HOSTNAME=env",
                "from-configmap", "s3cret", "default", "-----BEGIN CERTIFICATE-----",
                "tier=\"test\"", "nameserver 10.96.0.10", "search default.svc.cluster.local svc.cluster.local cluster.local",
                "/work/dir", "env", "read-only",
            ] {
                #expect(lines.contains(expected), "missing line \(expected) in:\n\(log)")
            }
            #expect(!lines.contains { $0.hasPrefix("MISSING=") })
            // The service-account volume holds the pod's own token: its service account, bound to it.
            let token = lines.first { $0.hasPrefix("eyJ") && $0.split(separator: ".").count == 3 } ?? ""
            if case .user(let user) = node.api.authenticate(certificate: nil, bearerToken: token) {
                #expect(user.name == "system:serviceaccount:default:default")
                #expect(user.extra["authentication.kubernetes.io/pod-name"] == ["env"])
            } else {
                Issue.record("the mounted token does not authenticate: \(token)")
            }
            // (envFrom's CFG_file.txt is set too, but sh drops names that are not identifiers.)
            let service = node.api.store.get(ResourceCatalog.services, namespace: "default", name: "my-svc")
            let clusterIP = service?.value["spec"]?["clusterIP"]?.stringValue ?? "?"
            #expect(lines.contains("MY_SVC_SERVICE_HOST=\(clusterIP)"))
            #expect(lines.contains("MY_SVC_PORT_80_TCP=tcp://\(clusterIP):80"))
            // The host never sees the container's mount points.
            #expect(!FileManager.default.fileExists(atPath: "/config"))
            #expect(!FileManager.default.fileExists(atPath: "/var/run/secrets/kubernetes.io"))
        }
    }

    @Test func initContainersRunInOrderBeforeTheContainers() async throws {
        try await NodeFixture.with { node in
            var pod = NodeFixture.shellPod("init", script: "cat /shared/steps", extra: [
                "volumes": [["name": "shared", "emptyDir": [:]]],
                "initContainers": [
                    ["name": "first", "image": "busybox", "command": ["sh", "-c", "echo one >> /shared/steps"],
                     "volumeMounts": [["name": "shared", "mountPath": "/shared"]]],
                    ["name": "second", "image": "alpine", "command": ["sh", "-c", "sleep 0.2; echo two >> /shared/steps"],
                     "volumeMounts": [["name": "shared", "mountPath": "/shared"]]],
                ],
            ], container: ["volumeMounts": [["name": "shared", "mountPath": "/shared"]]])
            pod["metadata"]?["name"] = "init"
            try node.create(ResourceCatalog.pods, pod)
            let pending = try await node.waitForPod("init") { $0["status"]?["initContainerStatuses"] != nil }
            #expect(pending.condition("Initialized") == "False")
            let done = try await node.waitForPod("init") { $0.phase == "Succeeded" || $0.phase == "Failed" }
            #expect(done.phase == "Succeeded")
            #expect(done.condition("Initialized") == "True")
            let inits = done["status"]?["initContainerStatuses"]?.arrayValue ?? []
            #expect(inits.map { $0["state"]?["terminated"]?["reason"]?.stringValue } == ["Completed", "Completed"])
            #expect(try node.log("init", "main") == "one\ntwo")
        }
    }

    @Test func crashingContainerRestartsWithBackOff() async throws {
        try await NodeFixture.with(backOff: .milliseconds(100)) { node in
            try node.create(ResourceCatalog.pods, NodeFixture.shellPod("crash", script: "echo run; exit 3", restartPolicy: "Always"))
            let pod = try await node.waitForPod("crash") { ($0.firstContainer?["restartCount"]?.intValue ?? 0) >= 2 }
            #expect(pod.firstContainer?["lastState"]?["terminated"]?["exitCode"]?.intValue == 3)
            #expect(pod.phase == "Running")
            let waiting = try await node.waitForPod("crash") { $0.firstContainer?["state"]?["waiting"]?["reason"]?.stringValue == "CrashLoopBackOff" }
            #expect(waiting.firstContainer?["state"]?["waiting"]?["message"]?.stringValue?.contains("restarting failed container=main") == true)
            #expect(try node.log("crash", "main", previous: true) == "run")
        }
    }

    @Test func readinessProbeGatesReady() async throws {
        try await NodeFixture.with { node in
            let pod = NodeFixture.shellPod("probe", script: "sleep 1.5; touch /data/ready; exec sleep 600", restartPolicy: "Always", extra: [
                "volumes": [["name": "data", "emptyDir": [:]]],
            ], container: [
                "volumeMounts": [["name": "data", "mountPath": "/data"]],
                "readinessProbe": ["exec": ["command": ["cat", "/data/ready"]], "periodSeconds": 1],
            ])
            try node.create(ResourceCatalog.pods, pod)
            let running = try await node.waitForPod("probe") { $0.phase == "Running" }
            #expect(running.condition("Ready") == "False")
            #expect(running.firstContainer?["ready"]?.boolValue == false)
            let ready = try await node.waitForPod("probe", timeout: .seconds(15)) { $0.condition("Ready") == "True" }
            #expect(ready.firstContainer?["ready"]?.boolValue == true)
        }
    }

    @Test func startupProbeHoldsStartedAndReady() async throws {
        try await NodeFixture.with { node in
            let pod = NodeFixture.shellPod("slow", script: "sleep 1.2; touch /data/up; exec sleep 600", restartPolicy: "Always", extra: [
                "volumes": [["name": "data", "emptyDir": [:]]],
            ], container: [
                "volumeMounts": [["name": "data", "mountPath": "/data"]],
                "startupProbe": ["exec": ["command": ["cat", "/data/up"]], "periodSeconds": 1, "failureThreshold": 10],
            ])
            try node.create(ResourceCatalog.pods, pod)
            let running = try await node.waitForPod("slow") { $0.phase == "Running" }
            #expect(running.firstContainer?["started"]?.boolValue == false)
            #expect(running.firstContainer?["ready"]?.boolValue == false)
            let started = try await node.waitForPod("slow", timeout: .seconds(15)) { $0.firstContainer?["started"]?.boolValue == true }
            #expect(started.condition("Ready") == "True")
            #expect(started.firstContainer?["restartCount"]?.intValue == 0)
        }
    }

    @Test func deletionSendsSIGTERMAndWaitsForTheContainer() async throws {
        try await NodeFixture.with { node in
            let script = "trap 'echo got TERM; sleep 0.5; exit 0' TERM; echo started; while true; do sleep 0.05; done"
            try node.create(ResourceCatalog.pods, NodeFixture.shellPod("graceful", script: script, restartPolicy: "Always"))
            try await node.waitForPod("graceful") { $0.phase == "Running" }
            var started = false
            for _ in 0..<200 where !started {
                started = (try? node.log("graceful", "main"))?.contains("started") == true
                try await Task.sleep(for: .milliseconds(20))
            }
            let deleted = ContinuousClock.now
            let marked = try node.api.deleteObject(ResourceCatalog.pods, namespace: "default", name: "graceful", propagation: nil, gracePeriod: 10)
            #expect(marked.value["metadata"]?["deletionTimestamp"] != nil)
            #expect(marked.value["metadata"]?["deletionGracePeriodSeconds"]?.intValue == 10)
            var sawTerm = false
            while node.pod("graceful") != nil, ContinuousClock.now - deleted < .seconds(10) {
                if (try? node.log("graceful", "main"))?.contains("got TERM") == true { sawTerm = true }
                try await Task.sleep(for: .milliseconds(20))
            }
            let took = ContinuousClock.now - deleted
            #expect(node.pod("graceful") == nil)
            #expect(sawTerm)
            // The container's TERM handler takes 400 ms: the pod went no earlier (it was not killed
            // at once), and within the 10 s grace period (the loop's deadline).
            #expect(took >= .milliseconds(400), "deletion took \(took)")
        }
    }

    @Test func unknownImageIsErrImagePullThenImagePullBackOff() async throws {
        try await NodeFixture.with { node in
            var pod = NodeFixture.echoPod("missing")
            pod["spec"]?["containers"] = [["name": "app", "image": "example.com/nothing/here:v1"]]
            try node.create(ResourceCatalog.pods, pod)
            let pulling = try await node.waitForPod("missing") { $0.firstContainer?["state"]?["waiting"]?["reason"]?.stringValue == "ErrImagePull" }
            #expect(pulling.firstContainer?["state"]?["waiting"]?["message"]?.stringValue?.contains("Failed to pull image \"example.com/nothing/here:v1\"") == true)
            #expect(pulling.phase == "Pending")
            let backOff = try await node.waitForPod("missing") { $0.firstContainer?["state"]?["waiting"]?["reason"]?.stringValue == "ImagePullBackOff" }
            #expect(backOff.firstContainer?["state"]?["waiting"]?["message"]?.stringValue == "Back-off pulling image \"example.com/nothing/here:v1\"")
        }
    }

    @Test func runtimeExecsInTheContainerAndConnectsToThePodsLoopback() async throws {
        try await NodeFixture.with { node in
            let configMaps = ResourceCatalog.lookup(apiVersion: "v1", plural: "configmaps")!
            try node.create(configMaps, ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "files", "namespace": "default"],
                                         "data": ["key": "mounted"]])
            try node.create(ResourceCatalog.pods, NodeFixture.shellPod(
                "tools", script: "cd /tmp; exec /usr/bin/python3 -m http.server --bind 127.0.0.1 8081", restartPolicy: "Always",
                extra: ["volumes": [["name": "files", "configMap": ["name": "files"]]]],
                container: [
                    "env": [["name": "MARKER", "value": "inside"]], "workingDir": "/files",
                    "volumeMounts": [["name": "files", "mountPath": "/files"]],
                ]))
            try await node.waitForPod("tools") { $0.phase == "Running" }
            let process = try await node.runtime.exec(ExecRequest(namespace: "default", pod: "tools", container: "main",
                                                                  command: ["sh", "-c", "echo $MARKER $(hostname) $(pwd) $(cat key)"], stdin: false, tty: false))
            let output = node.readAll(try #require(process.stdout), sending: "")
            let errors = node.readAll(try #require(process.stderr), sending: "")
            close(process.stdout!)
            close(process.stderr!)
            #expect(await process.wait() == 0, "stderr: \(errors)")
            // An exec sees the container's mounts (here under a rebuilt `/`) and working directory.
            #expect(output == "inside tools /files mounted\n")
            await #expect(throws: PodRuntimeError.self) {
                _ = try await node.runtime.exec(ExecRequest(namespace: "default", pod: "tools", container: "nope", command: ["true"], stdin: false, tty: false))
            }
            // Port-forward: the server listens on the pod's 127.0.0.1 only.
            var answer = ""
            let deadline = ContinuousClock.now + .seconds(15)
            while answer.isEmpty, ContinuousClock.now < deadline {
                if let fd = try? await node.runtime.connect(namespace: "default", pod: "tools", port: 8081) {
                    answer = node.readAll(fd, sending: "GET / HTTP/1.0\r\n\r\n")
                    close(fd)
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(answer.hasPrefix("HTTP/1.0 200"))
        }
    }
}

/// Leftovers of a killed run, terminals and liveness: the less common paths.
@Suite(.serialized, .enabled(if: NodeFixture.enabled))
struct ProcessNodeLifecycleTests {
    @Test func removeLeftoversKillsRecordedProcessesAndRemovesPodNamespaces() async throws {
        guard NodeFixture.canRun else {
            Issue.record("needs root and network namespaces")
            return
        }
        let names = ClusterNames(cluster: "nd\(UUID().uuidString.prefix(6).lowercased())")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-leftovers-\(names.cluster)")
        defer { try? FileManager.default.removeItem(at: state) }
        let procs = state.appendingPathComponent("pods/0123abcd/procs")
        try FileManager.default.createDirectory(at: procs, withIntermediateDirectories: true)
        // What a killed node leaves: a container's process group and its pod namespace.
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(null) }
        let pid = try ChildProcess.spawn(.init(
            executable: "/bin/sh", arguments: ["-c", "sleep 60 & exec sleep 60"], stdin: null, stdout: null, stderr: null, newSession: true))
        defer { kill(-pid, SIGKILL) }  // should the code under test fail to
        try "\(pid) \(startTime(of: pid) ?? 0)\n".write(to: procs.appendingPathComponent("main"), atomically: false, encoding: .utf8)
        let namespace = names.podNamespace(uid: "0123abcd-0000")
        try await SystemTool.runOnOwnThread(["ip", "netns", "add", namespace])
        defer { PodNetwork.removeNamespace(namespace) }
        await ProcessNode.removeLeftovers(names: names, stateDirectory: state)
        #expect(await ChildProcess.waitForExit(pid) == 128 + SIGKILL)
        #expect(!PodNetwork.namespaces().contains(namespace))
        // The background sleep is killed too (SIGKILL is delivered at once; it may linger as a zombie).
        let deadline = ContinuousClock.now + .seconds(5)
        while ProcessNode.processGroupHasMembers(pid), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!ProcessNode.processGroupHasMembers(pid))
        #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("pods").path))
    }

    @Test func execOnATerminal() async throws {
        try await NodeFixture.with { node in
            try node.create(ResourceCatalog.pods, NodeFixture.shellPod("tty", script: "exec sleep 600", restartPolicy: "Always"))
            try await node.waitForPod("tty") { $0.phase == "Running" }
            let process = try await node.runtime.exec(ExecRequest(namespace: "default", pod: "tty", container: "main",
                                                                  command: ["sh", "-c", "while [ \"$(stty size)\" = \"0 0\" ]; do sleep 0.01; done; stty size; test -t 0 && echo tty"],
                                                                  stdin: true, tty: true))
            #expect(process.stderr == nil)
            // As kubectl does, the size follows the start; the command waits for it.
            process.resize(100, 30)
            let master = try #require(process.stdout)
            var output = ""
            var buffer = [UInt8](repeating: 0, count: 1024)
            let deadline = ContinuousClock.now + .seconds(10)
            while !output.contains("tty"), ContinuousClock.now < deadline {
                var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let count = read(master, &buffer, buffer.count)
                if count <= 0 { break }
                output += String(decoding: buffer[0..<count], as: UTF8.self)
            }
            #expect(await process.wait() == 0)
            close(master)
            if let input = process.stdin { close(input) }
            #expect(output.contains("30 100"))
            #expect(output.contains("tty"))
        }
    }

    @Test func failedLivenessProbeRestartsTheContainer() async throws {
        try await NodeFixture.with { node in
            let pod = NodeFixture.shellPod("alive", script: "exec sleep 600", restartPolicy: "Always", extra: ["terminationGracePeriodSeconds": 1], container: [
                "livenessProbe": ["tcpSocket": ["port": 9999], "periodSeconds": 1, "failureThreshold": 1],
            ])
            try node.create(ResourceCatalog.pods, pod)
            let restarted = try await node.waitForPod("alive", timeout: .seconds(20)) { ($0.firstContainer?["restartCount"]?.intValue ?? 0) >= 1 }
            #expect(restarted.firstContainer?["lastState"]?["terminated"] != nil)
        }
    }

    @Test func evictionTerminatesGracefully() async throws {
        try await NodeFixture.with { node in
            try node.create(ResourceCatalog.pods, NodeFixture.shellPod("evicted", script: "exec sleep 600", restartPolicy: "Always"))
            try await node.waitForPod("evicted") { $0.phase == "Running" }
            let request = APIRequest(method: .POST, uri: "/api/v1/namespaces/default/pods/evicted/eviction",
                                     headers: ["Authorization": "Bearer \(node.api.token)", "Content-Type": "application/json"],
                                     body: Array(#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"evicted","namespace":"default"}}"#.utf8),
                                     user: "")
            guard case .full(let status, _, _) = await node.api.handle(request) else {
                Issue.record("eviction answered with a stream")
                return
            }
            #expect(status == 201)
            // sleep ignores nothing: SIGTERM ends it, and the pod goes well before its 5 s grace.
            let deadline = ContinuousClock.now + .seconds(4)
            while node.pod("evicted") != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(node.pod("evicted") == nil)
        }
    }

    @Test func deploymentPodsRunAndScaleDownGracefully() async throws {
        try await NodeFixture.with { node in
            var template = NodeFixture.echoPod("web")
            template["metadata"]?["name"] = nil
            var container: JSONValue = ["name": "echo", "image": "sandbox.local/echo", "ports": [["name": "http", "containerPort": 8080]],
                                        "readinessProbe": ["httpGet": ["path": "/healthz", "port": "http"], "periodSeconds": 1]]
            container["env"] = [["name": "POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]]]
            template["spec"]?["containers"] = [container]
            try node.create(ResourceCatalog.deployments, [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "namespace": "default"],
                "spec": ["replicas": 2, "selector": ["matchLabels": ["app": "web"]],
                         "template": ["metadata": ["labels": ["app": "web"]], "spec": template["spec"] ?? [:]]],
            ])
            func pods() -> [JSONValue] {
                node.api.store.list(ResourceCatalog.pods, namespace: "default").items.map(\.object.value)
            }
            let deadline = ContinuousClock.now + .seconds(20)
            while pods().filter({ $0.condition("Ready") == "True" }).count < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let ready = pods().filter { $0.condition("Ready") == "True" }
            #expect(ready.count == 2)
            // Every ready pod answers as itself.
            for pod in ready {
                let ip = pod["status"]?["podIP"]?.stringValue ?? ""
                let answer = try JSONValue(data: Data(try await node.httpGet(ip, port: 8080).utf8))
                #expect(answer["pod"] == pod["metadata"]?["name"])
            }
            _ = try node.api.store.update(ResourceCatalog.deployments, namespace: "default", name: "web") { current in
                var value = current.value
                value["spec"]?["replicas"] = 1
                return value
            }
            let scaled = ContinuousClock.now + .seconds(20)
            while pods().count > 1, ContinuousClock.now < scaled { try await Task.sleep(for: .milliseconds(20)) }
            #expect(pods().count == 1)
            // The default namespace's pods' network namespaces (kube-system's coredns pods have theirs).
            #expect(Set(PodNetwork.namespaces()).intersection(node.podNamespaces(in: "default")).count == 1)
            #expect(PodNetwork.namespaces().filter { $0.hasPrefix("\(node.names.prefix)pod-") }.count == node.podNamespaces(in: nil).count)
        }
    }

    @Test func execSessionsEndWithTheirPod() async throws {
        try await NodeFixture.with { node in
            try node.create(ResourceCatalog.pods, NodeFixture.shellPod("host", script: "exec sleep 600", restartPolicy: "Always"))
            try await node.waitForPod("host") { $0.phase == "Running" }
            let session = try await node.runtime.exec(ExecRequest(namespace: "default", pod: "host", container: "main",
                                                                  command: ["sh", "-c", "echo up; exec sleep 600"], stdin: false, tty: false))
            defer { [session.stdout, session.stderr].compactMap { $0 }.forEach { close($0) } }
            // Wait until the session runs in the container.
            var first = [UInt8](repeating: 0, count: 3)
            #expect(read(try #require(session.stdout), &first, 3) == 3)
            try node.api.deleteObject(ResourceCatalog.pods, namespace: "default", name: "host", propagation: nil, gracePeriod: 0)
            let code = await withTaskGroup(of: Int32?.self) { group in
                group.addTask { await session.wait() }
                group.addTask { try? await Task.sleep(for: .seconds(10)); return nil }
                let first = await group.next() ?? nil
                group.cancelAll()
                if first == nil { kill(session.pid, SIGKILL) }
                return first
            }
            #expect(code == 128 + SIGKILL)
        }
    }

    @Test func twentyPodsStartTogetherWithDistinctAddresses() async throws {
        try await NodeFixture.with { node in
            let created = ContinuousClock.now
            for index in 0..<20 {
                try node.create(ResourceCatalog.pods, NodeFixture.shellPod("many-\(index)", script: "exec sleep 600", restartPolicy: "Always"))
            }
            func running() -> [JSONValue] {
                node.api.store.list(ResourceCatalog.pods, namespace: "default").items.map(\.object.value).filter { $0.phase == "Running" }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while running().count < 20, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            print("process node: 20 pods Running \(ContinuousClock.now - created) after they were created")
            let addresses = Set(running().compactMap { $0["status"]?["podIP"]?.stringValue })
            #expect(addresses.count == 20)
            #expect(Set(PodNetwork.namespaces()).intersection(node.podNamespaces(in: "default")).count == 20)
        }
    }
}
