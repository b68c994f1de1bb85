import Foundation
import Synchronization
import TestSupport
import Testing

/// Runs a real kubectl binary (`kubectl.1.NN`, beside the `kubectl` on PATH) against a sandbox
/// with its own kubeconfig and discovery cache, so tests never share state.
struct Kubectl {
    let binary: URL
    let kubeconfig: URL
    let cacheDir: URL
    let version: String

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
    }

    /// Where the versioned binaries live.
    static let directory: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("kubectl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate.resolvingSymlinksInPath().deletingLastPathComponent()
            }
        }
        return nil
    }()

    static func binary(_ version: String) -> URL? {
        guard let url = directory?.appendingPathComponent("kubectl.\(version)"),
              FileManager.default.isExecutableFile(atPath: url.path) else { return nil }
        return url
    }

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Runs a test only when the binary exists, except in CI, where a missing one must fail.
    static func runnable(_ version: String) -> Bool { isCI || binary(version) != nil }

    static let versions = ["1.27", "1.30", "1.33"]

    /// kubectl 1.27/1.28 cannot validate without OpenAPI v2 (which the sandbox does not serve).
    var validateFlags: [String] { ["1.27", "1.28"].contains(version) ? ["--validate=false"] : [] }

    func run(_ arguments: [String], stdin: String? = nil, timeout: TimeInterval = 60) async throws -> Result {
        // TestSupport's runner: a deadline instead of a termination handler that could be
        // missed, and no thread of the cooperative pool blocked.
        let output = try await ProcessRunner.run(
            [binary.path] + arguments + ["--cache-dir", cacheDir.path],
            environment: ["KUBECONFIG": kubeconfig.path, "HOME": cacheDir.path], stdin: stdin,
            timeout: .milliseconds(Int64(timeout * 1000)))
        if output.timedOut { throw KubectlTimedOut(arguments: arguments, seconds: timeout) }
        return Result(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }

    /// Starts a long-running kubectl (`get -w`) whose output the test reads as it comes.
    func start(_ arguments: [String]) throws -> RunningKubectl {
        RunningKubectl(background: try ProcessRunner.start(
            [binary.path] + arguments + ["--cache-dir", cacheDir.path],
            environment: ["KUBECONFIG": kubeconfig.path, "HOME": cacheDir.path], captureOutput: true))
    }
}

struct KubectlTimedOut: Error, CustomStringConvertible {
    var arguments: [String]
    var seconds: TimeInterval
    var description: String { "kubectl \(arguments.joined(separator: " ")) did not finish within \(Int(seconds)) s" }
}

struct RunningKubectl {
    let background: ProcessRunner.Background

    /// Waits until the output satisfies `condition` (failing at the deadline); returns it.
    @discardableResult
    func waitForOutput(timeout: TimeInterval = 20, _ condition: @escaping @Sendable (String) -> Bool) async throws -> String {
        let background = background
        try await waitUntil("kubectl's output to show what the test expects", timeout: .milliseconds(Int64(timeout * 1000))) {
            condition(background.output)
        }
        return background.output
    }

    func stop() { background.kill() }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: TimeInterval = 20, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return try await condition()
}
