import ChildProcess
import Foundation
import Sandbox
import TestSupport
import Testing

/// `sandbox-cluster up/status/down` as a user runs them: two clusters at once, each ready
/// when `up` returns, both gone after `down`.
@Suite("sandbox-cluster executable")
struct SandboxClusterCLITests {
    /// The built executable, beside the test bundle in .build/<config>/.
    static let executable: URL? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("sandbox-cluster")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir.deleteLastPathComponent()
        }
        return nil
    }()

    func run(_ arguments: [String], environment: [String: String]) async throws -> (Int32, String) {
        let executable = try #require(Self.executable, "build the sandbox-cluster product first (swift build)")
        let result = try await ProcessRunner.run([executable.path] + arguments, environment: environment)
        return (result.status, result.combined)
    }

    @Test("up starts two named clusters in under 3 s each, status lists them, down removes them")
    func upStatusDown() async throws {
        let executable = try #require(Self.executable, "build the sandbox-cluster product first (swift build)")
        _ = executable
        let runtime = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
        let env = ["XDG_RUNTIME_DIR": runtime.path]
        defer {
            downBlocking("one", env)
            downBlocking("two", env)
            try? FileManager.default.removeItem(at: runtime)
        }
        for name in ["one", "two"] {
            // How long `up` takes is sandbox-bench's figure; here it must succeed and say so.
            let (status, output) = try await run(["up", "--name", name], environment: env)
            #expect(status == 0, "\(output)")
            // stderr says how long it took; stdout is the kubeconfig's path.
            let path = output.split(separator: "\n").map(String.init).first { $0.hasSuffix("/kubeconfig") } ?? ""
            #expect(path == runtime.appendingPathComponent("sandbox-cluster/\(name)/kubeconfig").path)
            let kubeconfig = try String(contentsOfFile: path, encoding: .utf8)
            #expect(kubeconfig.contains("certificate-authority-data:") && kubeconfig.contains("token:") && kubeconfig.contains("https://127.0.0.1:"))
        }
        let (_, status) = try await run(["status"], environment: env)
        #expect(status.contains("one: running") && status.contains("two: running"), "\(status)")
        let (again, message) = try await run(["up", "--name", "one"], environment: env)
        #expect(again != 0 && message.contains("already runs"), "\(message)")
        for name in ["one", "two"] {
            let (code, output) = try await run(["down", "--name", name], environment: env)
            #expect(code == 0 && output.contains("stopped"), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: runtime.appendingPathComponent("sandbox-cluster/\(name)").path))
        }
    }

    func cli(_ arguments: [String], _ env: [String: String], timeout: Double = 30) async throws -> (status: Int32, output: String) {
        let executable = try #require(Self.executable, "build the sandbox-cluster product first (swift build)")
        return try await runCommand([executable.path] + arguments, environment: env, timeout: timeout)
    }

    /// `down` for a `defer` (which cannot await): blocks this thread for the fraction of a second
    /// it takes, at the end of the test only.
    func downBlocking(_ name: String, _ env: [String: String]) {
        guard let executable = Self.executable else { return }
        let environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.map { "\($0.key)=\($0.value)" }
        _ = try? ChildProcess.runOnCallingThread(
            executable: executable.path, arguments: ["down", "--name", name], environment: environment, timeout: .seconds(30))
    }

    func temporaryRuntime() throws -> (URL, [String: String]) {
        let runtime = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
        return (runtime, ["XDG_RUNTIME_DIR": runtime.path])
    }

    @Test("up makes the network in under 3 s; run reaches the API server from the workstation; down leaves nothing",
          .enabled(where: .clusterNetwork))
    func upRunDown() async throws {
        try HostRequirement.clusterNetwork.require()
        let (runtime, env) = try temporaryRuntime()
        let name = testClusterName("cli")
        defer {
            downBlocking(name, env)
            try? FileManager.default.removeItem(at: runtime)
        }
        let started = Date()
        let (status, output) = try await cli(["up", "--name", name], env)
        let elapsed = Date().timeIntervalSince(started)
        #expect(status == 0, "\(output)")
        // The time is printed (sandbox-bench measures it), not bounded.
        #expect(output.contains("ready in"), "\(output)")
        print("sandbox-cluster up (process node, network, DNS): \(String(format: "%.2f", elapsed)) s; \(output.split(separator: "\n").first ?? "")")

        let (code, namespaces) = try await cli(["run", "--name", name, "--", "kubectl", "get", "ns"], env)
        #expect(code == 0 && namespaces.contains("kube-system"), "\(namespaces)")
        let (_, dns) = try await cli(["run", "--name", name, "--", "kubectl", "get", "svc", "-n", "kube-system", "kube-dns"], env)
        #expect(dns.contains("10.96.0.10"), "\(dns)")
        let (_, server) = try await cli(["run", "--name", name, "--", "sh", "-c", "echo $KUBECONFIG; grep server: $KUBECONFIG"], env)
        #expect(server.contains("workstation.kubeconfig") && server.contains("https://192.0.2.1:6443"), "\(server)")
        let (_, outside) = try await cli(["run", "--name", name, "--", "dig", "+short", "+time=2", "+tries=1", "outside.test"], env)
        #expect(outside.trimmingCharacters(in: .whitespacesAndNewlines) == "192.0.2.1", "\(outside)")
        let (exit, _) = try await cli(["run", "--name", name, "--", "sh", "-c", "exit 7"], env)
        #expect(exit == 7)
        let (_, status2) = try await cli(["status"], env)
        #expect(status2.contains("\(name): running") && status2.contains("sbx-\(name)-ws"), "\(status2)")

        let (down, message) = try await cli(["down", "--name", name], env)
        #expect(down == 0 && message.contains("stopped"), "\(message)")
        expectNothingLeft(cluster: name, processes: serverProcesses(name))
        let (after, refused) = try await cli(["run", "--name", name, "--", "true"], env)
        #expect(after != 0 && refused.contains("is not running"), "\(refused)")
    }

    @Test("after kill -9 of the server, a later up and a later down find and remove what it left",
          .enabled(where: .clusterNetwork))
    func downAfterKill() async throws {
        try HostRequirement.clusterNetwork.require()
        let (runtime, env) = try temporaryRuntime()
        let name = testClusterName("kill")
        defer {
            downBlocking(name, env)
            try? FileManager.default.removeItem(at: runtime)
        }
        for round in 0..<2 {
            let (status, output) = try await cli(["up", "--name", name, "--link-delay-ms", "1"], env)
            #expect(status == 0, "round \(round): \(output)")
            let pids = serverProcesses(name)
            #expect(pids.count == 1)
            for pid in pids { kill(pid, SIGKILL) }
            let gone = await waitFor(5) { serverProcesses(name).isEmpty }
            #expect(gone)
            #expect(!ClusterTopology.namespaces(cluster: name).isEmpty, "the killed server's namespaces are left for down to find")
        }
        let (down, message) = try await cli(["down", "--name", name], env)
        #expect(down == 0 && message.contains("removed what it left"), "\(message)")
        expectNothingLeft(cluster: name)
    }

    @Test("--link-delay-ms needs the network")
    func delayNeedsNetwork() async throws {
        let (runtime, env) = try temporaryRuntime()
        defer { try? FileManager.default.removeItem(at: runtime) }
        let (status, output) = try await cli(["up", "--name", "x", "--node", "virtual", "--link-delay-ms", "5"], env)
        #expect(status != 0 && output.contains("--link-delay-ms needs the cluster network"), "\(output)")
    }

    /// Live `sandbox-cluster serve --name NAME` processes.
    func serverProcesses(_ name: String) -> [Int32] {
        ProcessTable.processes { $0.isRunning && Self.isServer($0, cluster: name) }
    }

    /// Whether `process` is cluster `name`'s `sandbox-cluster serve --name NAME`.
    static func isServer(_ process: ProcessTable.Process, cluster name: String) -> Bool {
        let arguments = process.arguments
        return arguments.count > 3 && arguments[0].hasSuffix("sandbox-cluster") && arguments[1] == "serve"
            && zip(arguments, arguments.dropFirst()).contains { $0 == "--name" && $1 == name }
    }
}
