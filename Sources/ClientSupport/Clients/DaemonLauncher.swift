import Foundation

/// How the CLI starts a daemon that outlives it, and waits until it answers.
enum DaemonLauncher {
    /// glibc's POSIX_SPAWN_SETSID (2.26+), which Swift does not import from spawn.h.
    static let spawnSetSID: Int32 = 0x80

    /// A new session (no terminal's hangup reaches it), stdin from /dev/null, stdout and stderr
    /// appended to its log, none of the CLI's other descriptors.
    static func launch(executable: String, arguments: [String], log: URL) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(spawnSetSID))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the CLI's goes along: a caller that waits for EOF on a pipe it gave the
        // CLI (a shell's $(...), a test runner) would otherwise wait for the daemon to end.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw DaemonLaunchError(executable: executable, code: result)
        }
    }

    /// Runs a program on the caller's terminal (sudo's password prompt) and returns its exit status.
    static func runAttached(_ executable: String, _ arguments: [String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
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

struct DaemonLaunchError: Error, CustomStringConvertible {
    let executable: String
    let code: Int32
    var description: String { "the daemon \(executable) could not be started: \(String(cString: strerror(code)))" }
}
