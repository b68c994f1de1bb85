import Foundation

extension ChildProcess {
    /// Starts a daemon that outlives the caller: a new session (no terminal's hangup reaches
    /// it), stdin from /dev/null, stdout and stderr appended to `log` (created with
    /// `logPermissions`), and no other descriptor of ours (a caller waiting for end of file on a
    /// pipe it gave us, a shell's `$(...)` or a test runner, would otherwise wait for the daemon
    /// to end). Returns its pid; nobody waits for it but whoever wants to notice an early exit.
    public static func spawnDetached(
        executable: String, arguments: [String], log: String, logPermissions: mode_t = 0o600
    ) throws(SpawnError) -> pid_t {
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard null >= 0 else { throw SpawnError(executable: "/dev/null", errno: errno) }
        defer { close(null) }
        let output = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, logPermissions)
        guard output >= 0 else { throw SpawnError(executable: log, errno: errno) }
        defer { close(output) }
        return try spawn(Launch(
            executable: executable, arguments: arguments, stdin: null, stdout: output, stderr: output,
            newSession: true, inheritsOtherDescriptors: false))
    }
}
