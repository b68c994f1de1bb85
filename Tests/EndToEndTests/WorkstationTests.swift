import Foundation
import Testing
import TestSupport

/// Telepresence end to end on the sandbox, from its workstation namespace (which reaches only
/// the API server): install, connect, status, list, the cluster by name and address over TCP and
/// UDP, DNS, routing flags, errors, and quit leaving nothing behind.
@Suite(.serialized, .enabled(where: .root))
struct WorkstationTests {
    @Test func connectedWorkstationReachesTheCluster() async throws {
        try await Workstation.with { ws in
            try await ws.deployEcho()
            let resolvBefore = try await ws.run(["cat", "/etc/resolv.conf"]).stdout
            // Not connected: the cluster is out of reach.
            #expect(try await ws.run(["curl", "-s", "-m", "2", "http://echo/"]).status != 0)

            try await ws.expectSuccess(["telepresence", "helm", "install"])
            let started = ContinuousClock.now
            let connect = try await ws.expectSuccess(["telepresence", "connect"])
            print("telepresence connect (cold: both daemons started, debug build): \(ContinuousClock.now - started)")
            #expect(connect.contains("Connected to context \(ws.name)"))

            let status = try JSONSerialization.jsonObject(with: Data(try await ws.expectSuccess(["telepresence", "status", "--output", "json"]).utf8)) as? [String: Any]
            #expect(status?["connected"] as? Bool == true)
            let user = status?["user_daemon"] as? [String: Any]
            #expect(user?["kubernetes_context"] as? String == ws.name)
            #expect(user?["namespace"] as? String == "default")
            #expect((status?["traffic_manager"] as? [String: Any])?["version"] as? String != nil)
            let cluster = status?["cluster"] as? [String: Any]
            #expect(cluster?["service_subnet"] as? String == "10.96.0.0/16")
            #expect(cluster?["pod_subnets"] as? [String] == ["10.244.0.0/16"])
            let root = status?["root_daemon"] as? [String: Any]
            #expect(root?["status"] as? String == "Connected")
            #expect(root?["routes"] as? [String] == ["10.96.0.0/16", "10.244.0.0/16"])
            // Four port-forwards carry the tunnel by default (config.yml routing.tunnelConnections).
            #expect(root?["tunnel_connections"] as? Int == 4, "\(root ?? [:])")
            // No systemd-resolved in the sandbox's workstation namespace: resolv.conf it is.
            #expect(root?["dns_mode"] as? String == "resolv.conf", "\(root ?? [:])")

            #expect(try await ws.expectSuccess(["telepresence", "list"]).contains("deployment echo"))
            // A second connect: a clear answer, no second daemon.
            #expect(try await ws.expectSuccess(["telepresence", "connect"]).contains("Already connected"))
            #expect(ws.daemonProcesses().count == 2)

            // By name (bare, svc.ns, fqdn) and by address (ClusterIP, pod IP).
            for host in ["echo", "echo.default", "echo.default.svc.cluster.local"] {
                let body = try await ws.expectSuccess(["curl", "-s", "-m", "5", "http://\(host)/by-name"])
                #expect(body.contains("\"path\":\"\\/by-name\""), "\(host): \(body)")
            }
            let clusterIP = try await ws.expectSuccess(["kubectl", "get", "svc", "echo", "-o", "jsonpath={.spec.clusterIP}"])
            #expect(try await ws.expectSuccess(["curl", "-s", "-m", "5", "http://\(clusterIP)/"]).contains("\"pod\""))
            let podIP = try await ws.expectSuccess(["kubectl", "get", "pods", "-l", "app=echo", "-o", "jsonpath={.items[0].status.podIP}"])
            #expect(try await ws.expectSuccess(["curl", "-s", "-m", "5", "http://\(podIP):8080/"]).contains("\"pod\""))
            // UDP by service name.
            #expect(try await ws.probe("udp-echo", ["echo", "9001"]) == "udp ok")
            // Every namespace is mapped (svc.ns), also one created while connected.
            #expect(try await ws.expectSuccess(["dig", "+short", "+time=2", "kube-dns.kube-system"]) == "10.96.0.10")
            try await ws.expectSuccess(["kubectl", "create", "namespace", "later"])
            try await ws.expectSuccess(["kubectl", "create", "service", "clusterip", "probe", "-n", "later", "--tcp=80:8080"])
            let probeIP = try await ws.expectSuccess(["kubectl", "get", "svc", "probe", "-n", "later", "-o", "jsonpath={.spec.clusterIP}"])
            try await waitUntil("probe.later to resolve", timeout: .seconds(10)) {
                try await ws.run(["dig", "+short", "+time=1", "probe.later"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == probeIP
            }
            // Names outside the cluster still resolve through the workstation's own resolver.
            #expect(try await ws.expectSuccess(["dig", "+short", "+time=2", "outside.test"]) == "192.0.2.1")
            // 200 connections at once, each with its own answer.
            #expect(try await ws.probe("parallel", ["echo", "9000", "200"]) == "200 ok")
            // A big transfer both ways, checked.
            let size = Workstation.bulkMegabytes
            let bulkStarted = ContinuousClock.now
            #expect(try await ws.probe("bulk-checked", ["echo", "9000", String(size)], timeout: .seconds(300)) == "\(size) MiB ok")
            print("\(size) MiB each way through the tunnel (debug build): \(ContinuousClock.now - bulkStarted)")
            // A closed port fails fast (RST as soon as the cluster side's dial fails).
            let closed = try await ws.probe("closed-port", [podIP, "1"])
            #expect(closed.hasPrefix("reset"), "\(closed)")

            try await ws.expectSuccess(["telepresence", "quit"])
            // Everything the manager did, it was allowed to do by its install's RBAC.
            #expect(ws.denials(of: Workstation.managerAccount).isEmpty, "\(ws.denials(of: Workstation.managerAccount))")
            #expect(try await ws.run(["cat", "/etc/resolv.conf"]).stdout == resolvBefore, "resolv.conf restored byte for byte")
            #expect(!(try await ws.run(["ip", "link", "show"]).stdout.contains("tel0")))
            #expect(ws.daemonProcesses().isEmpty)
            try await ws.expectSuccess(["telepresence", "helm", "uninstall"])
            #expect(try await ws.run(["kubectl", "get", "ns", "ambassador"]).status != 0)
        }
    }

    /// Least privilege, as a cluster admin would set it up: a namespaced install (Roles in the
    /// managed namespace only, nothing cluster-scoped) whose manager is never refused anything, and
    /// a developer whose token has only a Role in the manager's namespace (find the manager, port
    /// forward to it) connects, lists and reaches the app by name.
    @Test func aNamespacedInstallAndADeveloperWithARoleSuffice() async throws {
        try await Workstation.with { ws in
            try await ws.deployEcho()
            try await ws.expectSuccess([
                "telepresence", "helm", "install", "--set", "managerRbac.namespaced=true", "--set", "managerRbac.namespaces={default}",
            ])
            let clusterScoped = try await ws.expectSuccess(["kubectl", "get", "clusterroles,clusterrolebindings", "-o", "name"])
            #expect(!clusterScoped.contains("traffic-manager"), "\(clusterScoped)")

            let developer = """
                apiVersion: v1
                kind: ServiceAccount
                metadata: {name: dev, namespace: ambassador}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: Role
                metadata: {name: telepresence-user, namespace: ambassador}
                rules:
                - {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
                - {apiGroups: [""], resources: [services], verbs: [get]}
                - {apiGroups: [""], resources: [pods/portforward], verbs: [create]}
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: telepresence-user, namespace: ambassador}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: telepresence-user}
                subjects: [{kind: ServiceAccount, name: dev, namespace: ambassador}]
                """
            #expect(try await ws.run(["kubectl", "apply", "-f", "-"], stdin: developer).status == 0)
            let token = try await ws.expectSuccess(["kubectl", "create", "token", "dev", "-n", "ambassador"])
            let cluster = try await ws.expectSuccess(["kubectl", "config", "view", "--minify", "-o", "jsonpath={.clusters[0].name}"])
            try await ws.expectSuccess(["kubectl", "config", "set-credentials", "dev", "--token=\(token)"])
            try await ws.expectSuccess(["kubectl", "config", "set-context", "dev", "--cluster=\(cluster)", "--user=dev", "--namespace=default"])
            // The developer may not read the cluster-wide things an admin can.
            #expect(try await ws.run(["kubectl", "--context", "dev", "get", "nodes"]).status != 0)
            #expect(!ws.denials(of: "system:serviceaccount:ambassador:dev").isEmpty, "the audit log records refusals")
            let namespaces = try await ws.run(["telepresence", "list-namespaces", "--context", "dev"])
            #expect(namespaces.status == 1 && namespaces.stderr.contains("you may not list the cluster's namespaces"), "\(namespaces.combined)")

            let connect = try await ws.run(["telepresence", "connect", "--context", "dev"])
            #expect(connect.status == 0, "\(connect.combined)")
            // Namespaces cannot be listed with this token: the connected and the manager's are
            // mapped, and the user is told so, once, without an error.
            #expect(connect.stdout.contains("Note: you may not list the cluster's namespaces"), "\(connect.combined)")
            let mapped = (try await ws.statusJSON()["user_daemon"] as? [String: Any])?["mapped_namespaces"] as? [String]
            #expect(mapped == ["default", "ambassador"], "\(String(describing: mapped))")
            #expect(try await ws.expectSuccess(["telepresence", "list"]).contains("deployment echo"))
            for host in ["echo", "echo.default"] {
                let body = try await ws.expectSuccess(["curl", "-s", "-m", "5", "http://\(host)/least-privilege"])
                #expect(body.contains("least-privilege"), "\(host): \(body)")
            }
            let status = try await ws.statusJSON()
            #expect((status["cluster"] as? [String: Any])?["pod_subnets"] as? [String] == ["10.244.0.0/16"], "\(status)")
            try await ws.expectSuccess(["telepresence", "quit"])
            #expect(ws.denials(of: Workstation.managerAccount).isEmpty, "\(ws.denials(of: Workstation.managerAccount))")
            try await ws.expectSuccess(["telepresence", "helm", "uninstall"])
        }
    }

    @Test func neverProxyAndAlsoProxy() async throws {
        try await Workstation.with { ws in
            try await ws.deployEcho()
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            let podIP = try await ws.expectSuccess(["kubectl", "get", "pods", "-l", "app=echo", "-o", "jsonpath={.items[0].status.podIP}"])
            // An address only the cluster reaches: on the node, outside every cluster subnet.
            try await ws.node(["ip", "addr", "add", "203.0.113.7/32", "dev", "lo"])
            let server = try ws.startInNode(["python3", "-m", "http.server", "--bind", "203.0.113.7", "8000"])
            defer { server.kill() }
            try await ws.expectSuccess(["telepresence", "connect", "--never-proxy", "\(podIP)/32", "--also-proxy", "203.0.113.0/24"])
            // The never-proxied pod IP is not routed; the service (another route) still is.
            #expect(try await ws.run(["curl", "-s", "-m", "2", "http://\(podIP):8080/"]).status != 0)
            #expect(try await ws.expectSuccess(["curl", "-s", "-m", "5", "http://echo/"]).contains("\"pod\""))
            // The also-proxied subnet goes through the cluster (once the node's server listens).
            try await waitUntil("the node's server at 203.0.113.7:8000 to answer through the cluster", timeout: .seconds(60), pollingEvery: .milliseconds(100)) {
                try await ws.run(["curl", "-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}", "http://203.0.113.7:8000/"]).stdout == "200"
            }
            try await ws.expectSuccess(["telepresence", "quit"])
        }
    }

    @Test func aCutPortForwardAndAReplacedManagerPodComeBack() async throws {
        try await Workstation.with { ws in
            try await ws.deployEcho()
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            try await ws.expectSuccess(["telepresence", "connect"])
            #expect(try await ws.run(["curl", "-s", "-m", "5", "http://echo/"]).status == 0)

            // Kill every connection from the workstation to the API server: the port-forwards
            // under gRPC and under the tunnel.
            // How soon it is back is a figure (printed), not an assertion: the machine's load decides it.
            let cut = ContinuousClock.now
            try await ws.expectSuccess(["ss", "-K", "dst", "192.0.2.1"])
            try await waitUntil("the session to reconnect and answer after its port-forwards were cut", timeout: .seconds(30), pollingEvery: .zero) {
                let status = try await ws.statusJSON()
                let user = status["user_daemon"] as? [String: Any]
                let root = status["root_daemon"] as? [String: Any]
                guard user?["session_state"] as? String == "connected", root?["status"] as? String == "Connected" else { return false }
                return try await ws.run(["curl", "-s", "-m", "1", "http://echo/"]).status == 0
            }
            print("after the port-forwards were cut, connected and answering again in \(ContinuousClock.now - cut)")
            let afterCut = try await ws.statusJSON()
            #expect(((afterCut["user_daemon"] as? [String: Any])?["reconnects"] as? Int ?? 0) >= 1, "the session saw the cut")

            // The manager pod replaced: the client finds the new one and re-arrives by itself.
            let oldPod = try await ws.expectSuccess(["kubectl", "-n", "ambassador", "get", "pods", "-o", "jsonpath={.items[0].metadata.name}"])
            try await ws.expectSuccess(["kubectl", "-n", "ambassador", "delete", "pod", oldPod, "--wait=false"])
            try await waitUntil("the session to move to the new manager pod and answer", timeout: .seconds(60), pollingEvery: .milliseconds(200)) {
                let link = ((try await ws.statusJSON())["user_daemon"] as? [String: Any])?["manager_link"] as? String ?? ""
                guard !link.contains(oldPod) else { return false }
                return try await ws.run(["curl", "-s", "-m", "1", "http://echo/"]).status == 0
            }
            try await ws.expectSuccess(["telepresence", "quit"])
        }
    }

    @Test func aKilledRootDaemonIsCleanedUpByTheNextConnect() async throws {
        try await Workstation.with { ws in
            try await ws.deployEcho()
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            let resolvBefore = try await ws.run(["cat", "/etc/resolv.conf"]).stdout
            try await ws.expectSuccess(["telepresence", "connect"])
            let root = ws.daemonProcesses(kind: "daemon-foreground")
            try #require(root.count == 1)
            kill(root[0], SIGKILL)
            // The device and its routes go with the process.
            try await waitUntil("tel0 to go with the killed root daemon", pollingEvery: .milliseconds(50)) {
                try await !ws.run(["ip", "link", "show"]).stdout.contains("tel0")
            }
            // The next connect starts a new root daemon, which restores resolv.conf from the
            // backup and joins the network again.
            #expect(try await ws.expectSuccess(["telepresence", "connect"]).contains("Already connected"))
            #expect(try await ws.run(["curl", "-s", "-m", "5", "http://echo/"]).status == 0)
            try await ws.expectSuccess(["telepresence", "quit"])
            #expect(try await ws.run(["cat", "/etc/resolv.conf"]).stdout == resolvBefore)
            #expect(ws.daemonProcesses().isEmpty)
        }
    }

    /// A node joins with a new pod subnet while connected: the manager's cluster info changes,
    /// the route appears on tel0, and a connection opened before keeps working throughout;
    /// the node leaves and the route goes.
    @Test func newPodSubnetsAreRoutedWhileConnected() async throws {
        try await Workstation.with { ws in
            try await ws.deployEcho()
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            try await ws.expectSuccess(["telepresence", "connect"])
            let subnet = "10.245.0.0/24"
            // Echoes on one connection, waits (20 s at most) for the route, echoes again.
            let script = """
                import socket, subprocess, sys, time
                s = socket.create_connection(("echo", 9000), timeout=10)
                s.sendall(b"before"); assert s.recv(100) == b"before"
                open(sys.argv[2], "w").close(); print("open")
                deadline = time.time() + 20
                while sys.argv[1] not in subprocess.run(["ip", "route"], capture_output=True, text=True).stdout:
                    if time.time() > deadline: print("no route"); sys.exit(1)
                    time.sleep(0.05)
                s.sendall(b"after"); print("route, then", s.recv(100).decode())
                """
            let opened = ws.home.appendingPathComponent("probe-open").path
            async let probe = ws.python(script, [subnet, opened], timeout: .seconds(40))
            let node = """
                apiVersion: v1
                kind: Node
                metadata: {name: joined-node}
                spec: {podCIDR: \(subnet), podCIDRs: [\(subnet)], unschedulable: true}
                """
            // The node arrives only once the probe's connection is open.
            try await waitUntil("the probe's connection to open", timeout: .seconds(20)) { FileManager.default.fileExists(atPath: opened) }
            let added = try await ws.run(["kubectl", "apply", "-f", "-"], stdin: node)
            #expect(added.status == 0, "\(added.combined)")
            let output = await (try? probe) ?? "failed"
            #expect(output == "open\nroute, then after", "\(output)")
            let routes = try await ws.expectSuccess(["ip", "route"])
            #expect(routes.contains("\(subnet) dev tel0"), "\(routes)")

            try await ws.expectSuccess(["kubectl", "delete", "node", "joined-node"])
            try await waitUntil("the route of the node that left to go", timeout: .seconds(20), pollingEvery: .milliseconds(50)) {
                try await !ws.run(["ip", "route"]).stdout.contains(subnet)
            }
            #expect(try await ws.run(["curl", "-s", "-m", "5", "http://echo/"]).status == 0)
            try await ws.expectSuccess(["telepresence", "quit"])
        }
    }

    @Test func connectWithoutAManagerSaysHowToInstallIt() async throws {
        try await Workstation.with { ws in
            let result = try await ws.run(["telepresence", "connect"])
            #expect(result.status != 0)
            #expect(result.combined.contains("telepresence helm install"), "\(result.combined)")
            try await ws.run(["telepresence", "quit"])
            #expect(ws.daemonProcesses().isEmpty)
        }
    }

    /// `helm install` waits for the manager as Helm's --wait does, and a manager that cannot
    /// start is explained (its pods' state), by `helm install` and by a `connect` that waits for
    /// it; `helm upgrade` to a good image then makes `connect` work, with no kubectl in between.
    @Test func aManagerThatCannotStartIsExplained() async throws {
        try await Workstation.with { ws in
            let config = ws.home.appendingPathComponent("config/telepresence")
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
            try "timeouts:\n  helm: 5s\n  trafficManagerConnect: 3s\n".write(
                to: config.appendingPathComponent("config.yml"), atomically: true, encoding: .utf8)
            let install = try await ws.run(["telepresence", "helm", "install", "--set", "image.registry=registry.invalid"])
            #expect(install.status == 1)
            #expect(install.stderr.contains("installed but not ready"), "\(install.combined)")
            #expect(install.stderr.contains("ImagePullBackOff") || install.stderr.contains("ErrImagePull"), "\(install.combined)")

            let connect = try await ws.run(["telepresence", "connect"])
            #expect(connect.status == 1)
            #expect(connect.stderr.contains("the traffic-manager in namespace ambassador is not ready: pod traffic-manager-"), "\(connect.combined)")
            #expect(connect.stderr.contains("ImagePullBackOff") || connect.stderr.contains("ErrImagePull"), "\(connect.combined)")

            try await ws.expectSuccess(["telepresence", "helm", "upgrade"])
            #expect(try await ws.expectSuccess(["telepresence", "connect"]).contains("Connected to context"))
            try await ws.expectSuccess(["telepresence", "quit", "-s"])
            try await ws.expectSuccess(["telepresence", "helm", "uninstall"])
        }
    }
}
