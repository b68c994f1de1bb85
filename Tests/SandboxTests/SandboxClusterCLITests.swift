import Foundation
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

    func run(_ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("up starts two named clusters in under 3 s each, status lists them, down removes them")
    func upStatusDown() async throws {
        let executable = try #require(Self.executable, "build the sandbox-cluster product first (swift build)")
        _ = executable
        let runtime = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
        let env = ["XDG_RUNTIME_DIR": runtime.path]
        defer {
            _ = try? run(["down", "--name", "one"], environment: env)
            _ = try? run(["down", "--name", "two"], environment: env)
            try? FileManager.default.removeItem(at: runtime)
        }
        for name in ["one", "two"] {
            let started = Date()
            let (status, output) = try run(["up", "--name", name], environment: env)
            #expect(status == 0, "\(output)")
            #expect(Date().timeIntervalSince(started) < 3)
            let path = output.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(path == runtime.appendingPathComponent("sandbox-cluster/\(name)/kubeconfig").path)
            let kubeconfig = try String(contentsOfFile: path, encoding: .utf8)
            #expect(kubeconfig.contains("certificate-authority-data:") && kubeconfig.contains("token:") && kubeconfig.contains("https://127.0.0.1:"))
        }
        let (_, status) = try run(["status"], environment: env)
        #expect(status.contains("one: running") && status.contains("two: running"), "\(status)")
        let (again, message) = try run(["up", "--name", "one"], environment: env)
        #expect(again != 0 && message.contains("already runs"), "\(message)")
        for name in ["one", "two"] {
            let (code, output) = try run(["down", "--name", name], environment: env)
            #expect(code == 0 && output.contains("stopped"), "\(output)")
            #expect(!FileManager.default.fileExists(atPath: runtime.appendingPathComponent("sandbox-cluster/\(name)").path))
        }
    }
}
