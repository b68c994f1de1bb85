import Foundation

/// Runs the project's built executables the way a user does, and collects what they print.
/// It runs on `ProcessRunner`, so waiting for a command never blocks a thread of Swift's
/// cooperative pool: tests that serve the CLI from a daemon in their own process need both of
/// its (two) threads for that daemon.
public enum CommandRunner {
    /// The folder SwiftPM built into (.build/<triple>/debug), found from the test bundle's path.
    public static let binDirectory: URL = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            if FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("telepresence").path) {
                return dir
            }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }()

    /// The built executable `name` (`telepresence`, `sandbox-cluster`, ...).
    public static func executable(_ name: String) -> URL { binDirectory.appendingPathComponent(name) }

    /// Runs the built executable `name` with `arguments` and extra environment, and waits (at
    /// most `timeout`) for it to end; a command still running then is killed and throws `TimedOut`.
    public static func run(
        _ name: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) async throws -> ProcessRunner.Output {
        let output = try await ProcessRunner.run([executable(name).path] + arguments, environment: environment, timeout: timeout)
        if output.timedOut {
            throw TimedOut(command: ([name] + arguments).joined(separator: " "), timeout: timeout)
        }
        return output
    }

    /// A command that did not end within its timeout.
    public struct TimedOut: Error, CustomStringConvertible {
        public var command: String
        public var timeout: Duration
        public var description: String { "`\(command)` did not finish within \(timeout); see whether it waits for input or a server that is not there" }
    }
}
