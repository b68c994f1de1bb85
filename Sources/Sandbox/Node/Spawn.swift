import CNodeSupport
import Foundation

/// A pipe whose ends close on exec (the child gets only what `spawn` dup2s into place).
func makePipe() throws -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    guard sbx_pipe(&fds) == 0 else { throw PodRuntimeError.failed("cannot make a pipe: \(String(cString: strerror(errno)))") }
    return (fds[0], fds[1])
}

/// posix_spawn of `arguments` at `path` with `stdio` as descriptors 0, 1 and 2 (the parent
/// keeps its own copies), optionally in a new session.
func spawn(
    _ path: String, _ arguments: [String], environment: [String]? = nil, stdio: (Int32, Int32, Int32),
    descriptor3: Int32? = nil, newSession: Bool = false
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, stdio.0, 0)
    posix_spawn_file_actions_adddup2(&actions, stdio.1, 1)
    posix_spawn_file_actions_adddup2(&actions, stdio.2, 2)
    if let descriptor3 { posix_spawn_file_actions_adddup2(&actions, descriptor3, 3) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // Signals the node ignores or blocks must not stay ignored in containers.
    var defaults = sigset_t()
    sigfillset(&defaults)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
    if newSession { flags |= sbx_posix_spawn_setsid_flag() }
    posix_spawnattr_setflags(&attributes, Int16(flags))
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp = (environment ?? ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }).map { strdup($0) } + [nil]
    defer { envp.forEach { free($0) } }
    var pid: pid_t = 0
    let code = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard code == 0 else {
        throw PodRuntimeError.failed("cannot start \(path): \(String(cString: strerror(code)))")
    }
    return pid
}

/// Waits for `pid` without blocking a Swift concurrency thread; returns the exit code
/// (128 + n when killed by signal n).
func waitForExit(_ pid: pid_t) async -> Int32 {
    (try? await onNewThread("sandbox-node-wait") { blockingWait(pid) }) ?? -1
}

func blockingWait(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return -1 }
    }
    return exitCode(status)
}

/// A wait status as a shell shows it.
func exitCode(_ status: Int32) -> Int32 {
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// Runs a short helper command (`ip`) to completion, feeding `input`, and returns its
/// combined output; throws with that output when it fails or outlives `timeout`.
func runCommand(_ path: String, _ arguments: [String], input: String = "", timeout: Duration = .seconds(10)) async throws -> String {
    try await onNewThread("sandbox-node-command") {
        let stdin = try makePipe()
        let output: (read: Int32, write: Int32)
        do { output = try makePipe() } catch { close(stdin.read); close(stdin.write); throw error }
        let pid: pid_t
        do {
            pid = try spawn(path, [path] + arguments, stdio: (stdin.read, output.write, output.write))
        } catch {
            [stdin.read, stdin.write, output.read, output.write].forEach { close($0) }
            throw error
        }
        close(stdin.read)
        close(output.write)
        _ = input.utf8CString.withUnsafeBufferPointer { Glibc.write(stdin.write, $0.baseAddress, $0.count - 1) }
        close(stdin.write)
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        while true {
            var poller = pollfd(fd: output.read, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            if left <= .zero { timedOut = true; break }
            let ready = poll(&poller, 1, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            if ready < 0, errno == EINTR { continue }
            if ready == 0 { continue }
            let count = read(output.read, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            text += buffer[0..<count]
        }
        close(output.read)
        if timedOut { kill(pid, SIGKILL) }
        let code = blockingWait(pid)
        let result = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if timedOut { throw PodRuntimeError.failed("\(path) \(arguments.joined(separator: " ")) did not finish within \(timeout)") }
        guard code == 0 else {
            throw PodRuntimeError.failed("\(path) \(arguments.joined(separator: " ")) failed (exit \(code)): \(result)")
        }
        return result
    }
}

/// Reads `fd` to its end (or until `timeout`) and closes it; what was written.
func readToEnd(_ fd: Int32, timeout: Duration) -> String {
    defer { close(fd) }
    var text: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1024)
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, 100)
        if ready <= 0 { continue }
        let count = read(fd, &buffer, buffer.count)
        if count < 0, errno == EINTR { continue }
        if count <= 0 { break }
        text += buffer[0..<count]
    }
    return String(decoding: text, as: UTF8.self)
}

/// Finds a system tool in the usual places (PATH may lack /usr/sbin).
func systemTool(_ name: String) -> String {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
    for directory in path + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return name
}
