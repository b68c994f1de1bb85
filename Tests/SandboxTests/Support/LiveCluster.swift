import Foundation
import Sandbox
import TestSupport
import Testing

/// A cluster started as a user starts one: the built `sandbox-cluster up --name NAME` (process
/// node, cluster network, DNS), driven with the machine's kubectl through its kubeconfig. After
/// the test body, whatever happened, `down` runs and the test asserts that the cluster left
/// nothing: no `sbx-NAME-*` network namespace or its mount, no /etc/netns entry, no process
/// of it (the server, every process that ran in its namespaces), no state directory.
struct LiveCluster {
    let name: String
    /// `XDG_RUNTIME_DIR` of the test, so the state directory is the test's own.
    let runtime: URL
    let kubeconfig: URL
    /// kubectl's home (its discovery cache) for this test only.
    let home: URL

    var names: ClusterNames { ClusterNames(cluster: name) }
    var environment: [String: String] { ["XDG_RUNTIME_DIR": runtime.path] }
    var stateDirectory: URL { runtime.appendingPathComponent("sandbox-cluster").appendingPathComponent(name) }

    /// Starts `sandbox-cluster up --name NAME` plus `upArguments`, runs `body`, then `down`, and
    /// asserts that nothing is left.
    static func with(_ tag: String, upArguments: [String] = [], _ body: (LiveCluster) async throws -> Void) async throws {
        try HostRequirement.clusterNetwork.require()
        let executable = try #require(SandboxClusterCLITests.executable, "build the sandbox-cluster product first (swift build)")
        let name = testClusterName(tag)
        let runtime = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runtime.appendingPathComponent("home"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: runtime) }
        let environment = ["XDG_RUNTIME_DIR": runtime.path]
        var failure: (any Error)?
        var processes: [Int32] = []
        var state: URL?
        do {
            let up = try await ProcessRunner.run([executable.path, "up", "--name", name] + upArguments, environment: environment, timeout: .seconds(30))
            try #require(up.status == 0, "sandbox-cluster up failed: \(up.combined)")
            let path = try #require(up.stdout.split(separator: "\n").map(String.init).first { $0.hasSuffix("/kubeconfig") }, "\(up.combined)")
            let cluster = LiveCluster(name: name, runtime: runtime, kubeconfig: URL(fileURLWithPath: path), home: runtime.appendingPathComponent("home"))
            state = cluster.stateDirectory
            do {
                try await body(cluster)
            } catch {
                failure = error
            }
            processes = cluster.processes()
        } catch {
            failure = error
        }
        let down = try await ProcessRunner.run([executable.path, "down", "--name", name], environment: environment, timeout: .seconds(30))
        #expect(down.status == 0, "sandbox-cluster down failed: \(down.combined)")
        // `down` returns once the server exited; its children may still be reaped by init.
        _ = await waitFor(5) { processes.allSatisfy { !ProcessTable.isRunning($0) } }
        expectNothingLeft(cluster: name, processes: processes)
        let prefix = ClusterNames(cluster: name).prefix
        let statePath = state?.path ?? prefix
        let mounts = ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "")
            .split(separator: "\n").filter { $0.contains(prefix) || $0.contains(statePath) }
        #expect(mounts.isEmpty, "mounts left: \(mounts)")
        if let state { #expect(!FileManager.default.fileExists(atPath: state.path), "the state directory \(state.path) is left") }
        if let failure { throw failure }
    }

    /// The processes of this cluster now: its `serve` process and every process in one of its
    /// network namespaces (pods' containers, exec sessions, the launcher).
    func processes() -> [Int32] {
        let prefix = names.prefix
        let namespaces = ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix(prefix) }
        let inodes = Set(namespaces.compactMap { ProcessTable.inode(of: "/run/netns/\($0)") })
        return ProcessTable.processes { process in
            process.networkNamespace.map(inodes.contains) == true || SandboxClusterCLITests.isServer(process, cluster: name)
        }
    }

    /// Runs the machine's kubectl against this cluster.
    func kubectl(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(60)) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(["kubectl"] + arguments, environment: ["KUBECONFIG": kubeconfig.path, "HOME": home.path],
                                    stdin: stdin, timeout: timeout)
    }

    /// `kubectl apply -f -`, which must succeed.
    func apply(_ manifest: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let result = try await kubectl(["apply", "-f", "-"], stdin: manifest)
        try #require(result.status == 0, "kubectl apply failed: \(result.combined)", sourceLocation: sourceLocation)
    }

    /// `kubectl exec POD -- COMMAND...`.
    func exec(_ pod: String, _ command: [String], timeout: Duration = .seconds(60)) async throws -> ProcessRunner.Output {
        try await kubectl(["exec", pod, "--"] + command, timeout: timeout)
    }

    /// Waits until the pods `selector` picks are Ready (`kubectl wait`), which must succeed.
    func waitReady(_ selector: String, timeout: Int = 60, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        // `kubectl wait` fails at once when no pod matches yet; the pods come from controllers.
        let exists = try await eventually(timeout: TimeInterval(timeout)) {
            let result = try await kubectl(["get", "pods", "-l", selector, "-o", "name"])
            return result.status == 0 && !result.stdout.isEmpty
        }
        try #require(exists, "no pod matches \(selector)", sourceLocation: sourceLocation)
        let result = try await kubectl(["wait", "--for=condition=Ready", "pod", "-l", selector, "--timeout=\(timeout)s"],
                                       timeout: .seconds(timeout + 10))
        if result.status != 0 {
            let pods = try await kubectl(["get", "pods", "-o", "wide"])
            try #require(result.status == 0, "pods \(selector) not Ready: \(result.combined)\n\(pods.combined)", sourceLocation: sourceLocation)
        }
    }

    /// A jsonpath of an object (`kubectl get KIND NAME -o jsonpath=...`).
    func jsonpath(_ resource: [String], _ path: String) async throws -> String {
        let result = try await kubectl(["get"] + resource + ["-o", "jsonpath=\(path)"])
        try #require(result.status == 0, "\(result.combined)")
        return result.stdout
    }
}
