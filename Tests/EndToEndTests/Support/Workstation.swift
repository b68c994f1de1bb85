import Foundation
import Synchronization
import Testing
import TestSupport

/// The end-to-end tests' one fixture: a sandbox cluster with its workstation namespace, the
/// daemons' folders of the test's own, and on demand further workstations on the same cluster
/// (``addWorkstation(_:)``), each a second developer's machine with its own namespace, hostname,
/// kubeconfig and daemons. ``with(_:)`` starts the cluster; ``withManager(_:)`` also installs the
/// traffic-manager and connects the first workstation.
struct Workstation {
    /// The cluster's name.
    let name: String
    /// This workstation's own folder: its daemons' sockets, logs and config (XDG_* point here).
    let home: URL
    var environment: [String: String]
    /// nil for the cluster's first workstation, else the name an added one was given (its hostname).
    let workstation: String?
    /// The cluster's state folder (kubeconfigs, audit log), the same for every workstation.
    let clusterState: URL
    private let added: AddedWorkstations

    /// 200 MiB in the issue; the debug build's WebSocket masking makes that ~1 min here.
    static let bulkMegabytes = Int(ProcessInfo.processInfo.environment["TP_E2E_BULK_MIB"] ?? "") ?? 200

    /// A new cluster and its first workstation for `body`; everything is removed after it,
    /// and checked to be gone.
    static func with(_ body: (Workstation) async throws -> Void) async throws {
        try HostRequirement.root.require()
        let name = "e2e\(getpid() % 10000)\(Int.random(in: 100...999))"
        let home = try makeHome()
        let ws = Workstation(
            name: name, home: home, environment: environment(home: home), workstation: nil,
            clusterState: home.appendingPathComponent("run/sandbox-cluster/\(name)"), added: AddedWorkstations())
        let up = try await ProcessRunner.run([CommandRunner.executable("sandbox-cluster").path, "up", "--name", name], environment: ws.environment)
        try #require(up.status == 0, "sandbox-cluster up: \(up.combined)")
        do {
            try await body(ws)
        } catch {
            await ws.tearDown()
            throw error
        }
        await ws.tearDown()
    }

    /// `with`, the traffic-manager installed and the first workstation connected.
    static func withManager(_ body: (Workstation) async throws -> Void) async throws {
        try await with { ws in
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            try await ws.expectSuccess(["telepresence", "connect"])
            try await body(ws)
        }
    }

    /// Adds a workstation called `workstation` to the cluster (`sandbox-cluster workstation
    /// add`): a second developer, with daemons, sockets and config of its own. It goes with the
    /// cluster at the end of `with`.
    func addWorkstation(_ workstation: String) async throws -> Workstation {
        let result = try await ProcessRunner.run(
            [CommandRunner.executable("sandbox-cluster").path, "workstation", "add", "--name", name, "--state-dir", clusterState.path, workstation],
            environment: environment)
        try #require(result.status == 0, "sandbox-cluster workstation add \(workstation): \(result.combined)")
        let home = try Self.makeHome()
        let other = Workstation(
            name: name, home: home, environment: Self.environment(home: home), workstation: workstation,
            clusterState: clusterState, added: added)
        added.append(other)
        return other
    }

    private static func makeHome() throws -> URL {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("tp-ws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        return home
    }

    private static func environment(home: URL) -> [String: String] {
        [
            "PATH": CommandRunner.binDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            "XDG_RUNTIME_DIR": home.appendingPathComponent("run").path,
            "XDG_CACHE_HOME": home.appendingPathComponent("cache").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent("config").path,
        ]
    }

    /// Quits every workstation's daemons, stops the cluster and checks nothing of either is left.
    func tearDown() async {
        let everyone = [self] + added.all
        for ws in everyone { _ = try? await ws.run(["telepresence", "quit"]) }
        _ = try? await ProcessRunner.run(
            [CommandRunner.executable("sandbox-cluster").path, "down", "--name", name, "--state-dir", clusterState.path], environment: environment)
        for ws in everyone {
            // Nothing of the cluster or the daemons is left.
            #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(ws.namespace)"))
            #expect(ws.daemonProcesses().isEmpty)
            try? FileManager.default.removeItem(at: ws.home)
        }
    }

    /// This workstation's network namespace.
    var namespace: String { workstation.map { "sbx-\(name)-ws-\($0)" } ?? "sbx-\(name)-ws" }

    static let managerAccount = "system:serviceaccount:ambassador:traffic-manager"

    /// The requests RBAC refused to `user`, from the sandbox's audit log of denials.
    func denials(of user: String) -> [String] {
        let log = clusterState.appendingPathComponent("audit.log")
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { line in
            let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return entry?["user"] as? String == user
        }.map(String.init)
    }

    /// `sandbox-cluster run` into this workstation (its namespace, hostname and kubeconfig).
    private var enter: [String] {
        [CommandRunner.executable("sandbox-cluster").path, "run", "--name", name, "--state-dir", clusterState.path]
            + (workstation.map { ["--workstation", $0] } ?? []) + ["--"]
    }

    /// Runs a command in the workstation namespace.
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(enter + arguments, environment: environment, stdin: stdin, timeout: timeout)
    }

    /// Starts a command in the workstation namespace in the background (a local server).
    func start(_ arguments: [String], captureOutput: Bool = false) throws -> ProcessRunner.Background {
        try ProcessRunner.start(enter + arguments, environment: environment, captureOutput: captureOutput)
    }

    @discardableResult
    func expectSuccess(_ arguments: [String], timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let result = try await run(arguments, timeout: timeout)
        #expect(result.status == 0, "\(workstation ?? "ws"): \(arguments.joined(separator: " ")): \(result.combined)", sourceLocation: sourceLocation)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func statusJSON() async throws -> [String: Any] {
        let text = try await run(["telepresence", "status", "--output", "json"]).stdout
        return (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// Runs a probe of scripts/netprobe.py (shared with scripts/bench.py) in the workstation
    /// namespace: its output, or "failed: ..." with what it printed.
    func probe(_ mode: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> String {
        try await python3([Self.netprobe, mode] + arguments, timeout: timeout)
    }

    /// Runs a script of the test's own in the workstation namespace, as `probe` does.
    func python(_ script: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> String {
        try await python3(["-c", script] + arguments, timeout: timeout)
    }

    private func python3(_ arguments: [String], timeout: Duration) async throws -> String {
        let result = try await run(["python3"] + arguments, timeout: timeout)
        return result.status == 0 ? result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : "failed: \(result.combined)"
    }

    /// Runs a command in the cluster's node namespace (test set-up only).
    func node(_ arguments: [String]) async throws {
        let result = try await ProcessRunner.run(["ip", "netns", "exec", "sbx-\(name)-node"] + arguments)
        try #require(result.status == 0, "\(arguments): \(result.combined)")
    }

    func startInNode(_ arguments: [String]) throws -> ProcessRunner.Background {
        try ProcessRunner.start(["ip", "netns", "exec", "sbx-\(name)-node"] + arguments)
    }

    /// The telepresence daemons started for this workstation (found by its own folder in their
    /// command line or as their XDG_RUNTIME_DIR: an added workstation's daemons also carry the
    /// first one's folder, in KUBECONFIG).
    func daemonProcesses(kind: String? = nil) -> [Int32] {
        let runtime = "XDG_RUNTIME_DIR=" + environment["XDG_RUNTIME_DIR", default: home.path]
        return ProcessTable.processes { process in
            let command = process.commandLine
            let isDaemon = kind.map { command.contains($0) } ?? (command.contains("userd") || command.contains("daemon-foreground"))
            return isDaemon && (command.contains(home.path + "/") || process.environment.split(separator: "\0").contains { $0 == runtime })
        }
    }

    func deployEcho() async throws {
        let manifest = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: echo}
            spec:
              replicas: 2
              selector: {matchLabels: {app: echo}}
              template:
                metadata: {labels: {app: echo}}
                spec:
                  containers:
                  - name: echo
                    image: sandbox.local/echo:1
                    ports: [{name: http, containerPort: 8080}, {name: tcp, containerPort: 9000}, {name: udp, containerPort: 9001, protocol: UDP}]
                    readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: echo}
            spec:
              selector: {app: echo}
              ports:
              - {name: http, port: 80, targetPort: http}
              - {name: tcp, port: 9000, targetPort: tcp}
              - {name: udp, port: 9001, targetPort: udp, protocol: UDP}
            """
        try await apply(manifest, deployments: ["echo"])
    }

    /// `kubectl apply`s `manifest` and waits until its `deployments` have rolled out (and, with
    /// `clientPod`, the shell pod `client` that tests send requests from is Ready).
    func apply(_ manifest: String, deployments: [String], clientPod: Bool = false) async throws {
        let applied = try await run(["kubectl", "apply", "-f", "-"], stdin: clientPod ? manifest + "\n---\n" + Self.clientPod : manifest)
        try #require(applied.status == 0, "\(applied.combined)")
        for name in deployments {
            try await expectSuccess(["kubectl", "rollout", "status", "deployment/\(name)", "--timeout=60s"])
        }
        if clientPod { try await expectSuccess(["kubectl", "wait", "--for=condition=Ready", "pod/client", "--timeout=60s"]) }
    }

    /// A bare shell pod in the cluster, `client`.
    static let clientPod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: client}
        spec:
          containers:
          - {name: shell, image: sandbox.local/shell, command: [sleep, "3600"]}
        """

    /// scripts/netprobe.py of this checkout, found from this file so a fresh clone needs nothing.
    static let netprobe = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/netprobe.py").path
}

/// The workstations added to one cluster, which its fixture's tear-down quits.
private final class AddedWorkstations: Sendable {
    private let list = Mutex<[Workstation]>([])
    func append(_ workstation: Workstation) { list.withLock { $0.append(workstation) } }
    var all: [Workstation] { list.withLock { $0 } }
}
