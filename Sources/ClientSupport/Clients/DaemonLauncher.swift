import ChildProcess
import Foundation

/// How the CLI starts a daemon that outlives it, and waits until it answers.
enum DaemonLauncher {
    /// A new session (no terminal's hangup reaches it), stdin from /dev/null, stdout and stderr
    /// appended to its log, none of the CLI's other descriptors: a caller that waits for EOF on a
    /// pipe it gave the CLI (a shell's $(...), a test runner) would otherwise wait for the daemon.
    static func launch(executable: String, arguments: [String], log: URL) throws(SpawnError) {
        _ = try ChildProcess.spawnDetached(executable: executable, arguments: arguments, log: log.path, logPermissions: 0o600)
    }

    /// Runs a program on the caller's terminal (sudo's password prompt) and returns its exit status.
    static func runAttached(_ executable: String, _ arguments: [String]) async throws(SpawnError) -> Int32 {
        try await ChildProcess.runAttached(executable: executable, arguments: arguments)
    }

    /// Waits until `condition` holds, or throws `timeoutError` after `limit`.
    static func waitUntil(
        _ limit: Duration, _ condition: () -> Bool, timeoutError: () -> any Error
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { throw timeoutError() }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
