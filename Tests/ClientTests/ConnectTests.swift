import ClientSupport
import Diagnostics
import Foundation
import KubeClient
import Logging
import ManagerInstall
import Sandbox
import TestSupport
import Testing
import TrafficManager
@testable import UserDaemon

/// The CLI, the user daemon and the traffic-manager together, against a sandbox. The manager
/// runs in process on 127.0.0.1 and the daemon dials it directly (the sandbox does not serve
/// pods/portforward yet); the CLI is the real executable, finding the daemon by its socket.
@Suite(.serialized) struct ConnectTests {
    struct Connected {
        let sandbox: SandboxFixture
        let manager: TrafficManager
        let daemon: ConnectorDaemon
        var environment: [String: String] { sandbox.environment }
        var paths: ClientPaths { ClientPaths.from(environment: sandbox.environment) }
    }

    /// A sandbox with the traffic-manager installed (its pod Ready on the virtual node), the
    /// manager itself in process, and a user daemon in process that dials it.
    static func withDaemon(_ body: (Connected) async throws -> Void) async throws {
        try await SandboxFixture.with { sandbox in
            try await ManagerInstaller(client: sandbox.kube, namespace: "ambassador").install(values: .defaults, createNamespace: true)
            let resolvConf = sandbox.folder.appendingPathComponent("resolv.conf")
            try "search ambassador.svc.cluster.local svc.cluster.local cluster.local\n".write(to: resolvConf, atomically: true, encoding: .utf8)
            let manager = try await TrafficManager.start(
                settings: ManagerSettings(namespace: "ambassador", serverPort: 0, serverHost: "127.0.0.1", resolvConfPath: resolvConf.path),
                client: sandbox.kube, logger: Logger(label: "test-manager") { _ in SwiftLogNoOpLogHandler() })
            let port = manager.port
            let daemon: ConnectorDaemon
            do {
                daemon = try await ConnectorDaemon.start(
                    paths: ClientPaths.from(environment: sandbox.environment), config: ClientConfig(),
                    logLevel: LogLevelControl(configured: .info), logger: Logger(label: "test-connector") { _ in SwiftLogNoOpLogHandler() },
                    makeDialer: { _, _ in DirectManagerDialer(port: port) })
            } catch {
                await manager.stop()
                throw error
            }
            do {
                try await body(Connected(sandbox: sandbox, manager: manager, daemon: daemon))
            } catch {
                await daemon.stop()
                await manager.stop()
                throw error
            }
            await daemon.stop()
            await manager.stop()
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func connectStatusListConnectAgainAndQuit() async throws {
        try await Self.withDaemon { env in
            _ = try await env.sandbox.kube.create(.deployments, Deployment(
                metadata: ObjectMeta(name: "web", namespace: "default"),
                spec: DeploymentSpec(
                    replicas: 1, selector: LabelSelector(matchLabels: ["app": "web"]),
                    template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]), spec: PodSpec(containers: [Container(name: "web", image: "web:1")])))))

            let connect = try await CommandRunner.run("telepresence", ["connect"], environment: env.environment)
            #expect(connect.status == 0, "\(connect.stderr)")
            #expect(connect.stdout.contains("Connected to context"))
            #expect(connect.stderr.isEmpty, "piped output stays quiet: \(connect.stderr)")

            let status = try await CommandRunner.run("telepresence", ["status", "--output", "json"], environment: env.environment)
            #expect(status.status == 0, "\(status.stderr)")
            let view = try Self.json(status.stdout)
            #expect(view["connected"] as? Bool == true)
            let daemon = try #require(view["user_daemon"] as? [String: Any])
            #expect(daemon["namespace"] as? String == "default")
            #expect(daemon["manager_namespace"] as? String == "ambassador")
            #expect((daemon["kubernetes_context"] as? String)?.isEmpty == false)
            #expect((daemon["kubernetes_server"] as? String)?.hasPrefix("https://") == true)
            #expect(daemon["session_state"] as? String == "connected")
            let manager = try #require(view["traffic_manager"] as? [String: Any])
            #expect(manager["version"] as? String == ProductVersion.current)
            let cluster = try #require(view["cluster"] as? [String: Any])
            #expect(cluster["service_subnet"] as? String == ClusterAddresses.serviceSubnet)
            #expect(cluster["pod_subnets"] as? [String] == [ClusterAddresses.podSubnet])
            #expect(cluster["cluster_domain"] as? String == "cluster.local")

            let list = try await CommandRunner.run("telepresence", ["list", "--output", "json"], environment: env.environment)
            #expect(list.status == 0, "\(list.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            #expect(rows.map { $0["name"] as? String } == ["web"])
            #expect(rows.first?["workload_resource_type"] as? String == "deployment")
            let text = try await CommandRunner.run("telepresence", ["list"], environment: env.environment)
            // web has no Service: nothing could reach it through an intercept, and list says so.
            #expect(text.stdout.contains("deployment web") && text.stdout.contains("not engageable: no Service selects it"), "\(text.stdout)")

            // A second connect answers from the same daemon: no new process.
            let again = try await CommandRunner.run("telepresence", ["connect"], environment: env.environment)
            #expect(again.status == 0, "\(again.stderr)")
            #expect(again.stdout.contains("Already connected"))
            let pid = try await ConnectorClient(paths: env.paths).withSession { try await $0.version().pid }
            #expect(pid == getpid())
            #expect(Self.spawnedDaemons(environment: env.environment).isEmpty)

            // The daemon's socket and folder are the user's only.
            let socketMode = try FileManager.default.attributesOfItem(atPath: env.paths.connectorSocket.path)[.posixPermissions] as? Int
            #expect(socketMode == 0o600)
            let folderMode = try FileManager.default.attributesOfItem(atPath: env.paths.runtimeDirectory.path)[.posixPermissions] as? Int
            #expect(folderMode == 0o700)

            let level = try await CommandRunner.run("telepresence", ["loglevel", "debug", "--duration", "1m"], environment: env.environment)
            #expect(level.status == 0, "\(level.stderr)")
            let badLevel = try await CommandRunner.run("telepresence", ["loglevel", "loud"], environment: env.environment)
            #expect(badLevel.status != 0 && badLevel.stderr.contains("unknown"))
            let config = try await CommandRunner.run("telepresence", ["config", "view", "--output", "yaml"], environment: env.environment)
            #expect(config.stdout.contains("defaultManagerNamespace: ambassador"), "\(config.stdout)")

            let version = try await CommandRunner.run("telepresence", ["version"], environment: env.environment)
            #expect(version.stdout.contains("Traffic Manager:") && version.stdout.contains("v\(ProductVersion.current)"))
            #expect(!version.stdout.contains("not connected"))

            let quit = try await CommandRunner.run("telepresence", ["quit"], environment: env.environment)
            #expect(quit.status == 0, "\(quit.stderr)")
            try await waitForEvent("the daemon to stop after quit") { await env.daemon.wait() }
            #expect(!FileManager.default.fileExists(atPath: env.paths.connectorSocket.path), "quit leaves no socket")
            try await waitUntil("the session to depart") { env.manager.sessions.count == 0 }
            let after = try await CommandRunner.run("telepresence", ["status"], environment: env.environment)
            #expect(after.stdout.contains("Not running"))
        }
    }

    /// `connect -- CMD` runs the command while connected, passes on its exit status, and
    /// disconnects when it ends.
    @Test func connectRunsACommandThenDisconnects() async throws {
        try await Self.withDaemon { env in
            let marker = env.sandbox.folder.appendingPathComponent("ran")
            let run = try await CommandRunner.run(
                "telepresence", ["connect", "--", "sh", "-c", "telepresence status --output json > \(marker.path); exit 3"],
                environment: env.environment.merging(["PATH": CommandRunner.binDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")]) { $1 })
            #expect(run.status == 3, "\(run.stderr)")
            let during = try Self.json(String(contentsOf: marker, encoding: .utf8))
            #expect(during["connected"] as? Bool == true, "the command ran while connected")
            let after = try await CommandRunner.run("telepresence", ["status", "--output", "json"], environment: env.environment)
            #expect(try Self.json(after.stdout)["connected"] as? Bool == false)
            try await waitUntil("the session to depart") { env.manager.sessions.count == 0 }
        }
    }

    /// The manager restarted (a new pod): the daemon finds its session gone and arrives again by
    /// itself; status says `reconnecting` meanwhile.
    @Test func sessionComesBackAfterTheManagerRestarts() async throws {
        try await SandboxFixture.with { sandbox in
            try await ManagerInstaller(client: sandbox.kube, namespace: "ambassador").install(values: .defaults, createNamespace: true)
            let settingsFor = { (port: Int) in ManagerSettings(namespace: "ambassador", serverPort: port, serverHost: "127.0.0.1") }
            let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
            // The manager comes back on the same port. An ephemeral port could be taken by any
            // test's outgoing connection while the manager is down, so take one below the
            // kernel's ephemeral range (32768 and up).
            var started: (TrafficManager, Int)?
            for candidate in (20000..<32000).shuffled().prefix(50) where started == nil {
                if let manager = try? await TrafficManager.start(settings: settingsFor(candidate), client: sandbox.kube, logger: quiet) {
                    started = (manager, candidate)
                }
            }
            let (firstManager, port) = try #require(started, "no free port below the ephemeral range")
            var manager = firstManager
            let state = Connector(
                paths: ClientPaths.from(environment: sandbox.environment), config: ClientConfig(), logger: quiet,
                makeDialer: { _, _ in DirectManagerDialer(port: port) })
            let outcome = await state.connect(ConnectRequest(kubeFlags: ["kubeconfig": sandbox.kubeconfig.path]))
            let first = try #require(outcome.connection, "\(outcome)")
            let firstSession = first.sessionID

            await manager.stop()
            try await waitUntil("status to say reconnecting") { await state.status()?.sessionState == .reconnecting }
            // The old server's listeners may still be closing (the daemon's connection drains).
            var restarted: TrafficManager?
            try await waitUntil("the manager to listen again on port \(port)", timeout: .seconds(10)) {
                restarted = try? await TrafficManager.start(settings: settingsFor(port), client: sandbox.kube, logger: quiet)
                return restarted != nil
            }
            manager = try #require(restarted)
            try await waitUntil("the session to come back") { await state.status()?.sessionState == .connected }
            let after = try #require(await state.status())
            #expect(after.sessionID != firstSession, "a new manager hands out a new session")
            #expect(after.reconnects >= 1)
            #expect(manager.sessions.count == 1)
            await state.disconnect()
            await manager.stop()
        }
    }

    /// What a user sees when connect cannot work; the daemon is the real background process the
    /// CLI starts, and `quit` ends it.
    @Test func connectErrorsNameTheCauseAndQuitEndsTheDaemon() async throws {
        try await SandboxFixture.with { sandbox in
            let env = sandbox.environment
            // No traffic-manager installed.
            let missing = try await CommandRunner.run("telepresence", ["connect"], environment: env)
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("traffic manager not found in namespace ambassador"), "\(missing.stderr)")
            #expect(missing.stderr.contains("telepresence helm install"))

            // A context that does not exist: the ones that do are listed.
            let wrong = try await CommandRunner.run("telepresence", ["connect", "--context", "no-such-context"], environment: env)
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("context no-such-context does not exist"), "\(wrong.stderr)")
            let contexts = try KubeconfigLoader.load(explicitFile: sandbox.kubeconfig.path, environment: .current).contexts.map(\.name)
            #expect(contexts.allSatisfy { wrong.stderr.contains($0) })

            // An API server that accepts TCP but never answers: an error within the timeout.
            let silent = try SilentListener()
            defer { silent.close() }
            let dead = sandbox.folder.appendingPathComponent("dead-kubeconfig")
            try """
            apiVersion: v1
            kind: Config
            clusters: [{name: dead, cluster: {server: "https://127.0.0.1:\(silent.port)", insecure-skip-tls-verify: true}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: dead, context: {cluster: dead, user: u}}]
            current-context: dead
            """.write(to: dead, atomically: true, encoding: .utf8)
            let configDir = sandbox.folder.appendingPathComponent("config/telepresence")
            try FileManager.default.createDirectory(at: configDir, withIntermediateDirectories: true)
            try "timeouts:\n  clusterConnect: 2s\n".write(to: configDir.appendingPathComponent("config.yml"), atomically: true, encoding: .utf8)
            // The running daemon read config.yml at start; quit it so the next connect starts one that reads it.
            let pid = try await ConnectorClient(paths: ClientPaths.from(environment: env)).withSession { try await $0.version().pid }
            #expect(pid != getpid())
            _ = try await CommandRunner.run("telepresence", ["quit"], environment: env)
            try await waitUntil("quit to end the daemon process") { kill(pid, 0) != 0 && errno == ESRCH }

            let unreachable = try await CommandRunner.run("telepresence", ["connect", "--kubeconfig", dead.path], environment: env)
            #expect(unreachable.status == 1)
            #expect(unreachable.stderr.contains("cannot be reached"), "\(unreachable.stderr)")
            // The configured 2 s, not the default 20 s, is what the daemon waited.
            #expect(unreachable.stderr.contains("no answer within 2 s"), "\(unreachable.stderr)")

            let secondPid = try await ConnectorClient(paths: ClientPaths.from(environment: env)).withSession { try await $0.version().pid }
            let quit = try await CommandRunner.run("telepresence", ["quit", "-s"], environment: env)
            #expect(quit.status == 0)
            try await waitUntil("quit to end the daemon process") { kill(secondPid, 0) != 0 && errno == ESRCH }
            #expect(!FileManager.default.fileExists(atPath: ClientPaths.from(environment: env).connectorSocket.path))
            #expect(Self.spawnedDaemons(environment: env).isEmpty)
        }
    }

    /// Connect and disconnect again and again, through the daemon's API and through the CLI
    /// executable, each time connected. (How long a connect takes is `./scripts/bench`'s figure.)
    @Test func connectAndDisconnectRepeatedly() async throws {
        try await Self.withDaemon { env in
            let client = ConnectorClient(paths: env.paths)
            let kubeconfig = env.sandbox.kubeconfig.path
            for _ in 0..<5 {
                let outcome = try await client.withSession { try await $0.connect(ConnectRequest(kubeFlags: ["kubeconfig": kubeconfig])) }
                #expect(outcome.connection != nil, "\(outcome)")
                try await client.withSession { try await $0.disconnect() }
            }
            for _ in 0..<5 {
                let run = try await CommandRunner.run("telepresence", ["connect"], environment: env.environment)
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stdout.contains("Connected to context"), "\(run.stdout)")
                try await client.withSession { try await $0.disconnect() }
            }
        }
    }

    // MARK: helpers

    /// `telepresence userd` processes started for this environment's runtime folder.
    static func spawnedDaemons(environment: [String: String]) -> [Int32] {
        let runtime = environment["XDG_RUNTIME_DIR"] ?? ""
        return ProcessTable.processes { $0.commandLine.contains("userd") && $0.environment.contains("XDG_RUNTIME_DIR=\(runtime)") }
    }
}

/// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel and then
/// hear nothing, as from an API server behind a dead VPN.
final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}
