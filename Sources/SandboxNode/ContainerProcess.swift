import ChildProcess
import Foundation
import SandboxAPIServer
import SandboxNetwork
import Synchronization

/// One started instance of a container: the launcher's pid (the container's process after its
/// exec), with stdout and stderr pumped into the instance's CRI log file by a thread of its own.
final class ContainerProcess: Sendable {
    let pid: pid_t
    /// Ends with the exit code once the process has exited and its output is in the log.
    let exit: Task<Int32, Never>
    private let record: String
    private let exited: ExitFlag

    private init(pid: pid_t, exit: Task<Int32, Never>, record: String, exited: ExitFlag) {
        self.pid = pid
        self.exit = exit
        self.record = record
        self.exited = exited
    }

    /// Whether the process has exited (and its output is in the log).
    var hasExited: Bool { exited.value.withLock { $0 } }

    /// Writes `spec` to `specPath`, starts the launcher on the spawn thread and begins pumping
    /// output into `logPath`. `record` is a file naming the process group, for
    /// `ProcessNode.removeLeftovers` after a killed run.
    static func start(
        _ spec: LaunchSpec, specPath: String, launcher: String, logPath: String, record: String, spawner: SpawnThread
    ) async throws -> ContainerProcess {
        var spec = spec
        spec.statusDescriptor = 3
        let encoder = JSONEncoder()
        try encoder.encode(spec).write(to: URL(fileURLWithPath: specPath))
        let log = try CRILogWriter(path: logPath)
        let out = try makePipe()
        let err = try makePipe()
        let status = try makePipe()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let pid: pid_t
        do {
            pid = try await spawner.run {
                try spawn(launcher, [launcher, "container-exec", specPath], stdio: (null, out.write, err.write), descriptor3: status.write)
            }
        } catch {
            [out.read, out.write, err.read, err.write, status.read, status.write, null].forEach { close($0) }
            throw error
        }
        [out.write, err.write, status.write, null].forEach { close($0) }
        // Running means exec'd: an exec or port-forward must find the container's namespaces.
        // A failure is also in the log (stderr) and the exit code (127).
        _ = try? await onNewThread("sandbox-node-start") { readToEnd(status.read, timeout: .seconds(30)) }
        try? "\(pid) \(startTime(of: pid) ?? 0)\n".write(toFile: record, atomically: false, encoding: .utf8)
        let exited = ExitFlag()
        let exit = Task {
            let code = (try? await onNewThread("sandbox-node-pump") { pump(pid: pid, out: out.read, err: err.read, log: log) }) ?? -1
            exited.value.withLock { $0 = true }
            return code
        }
        return ContainerProcess(pid: pid, exit: exit, record: record, exited: exited)
    }

    /// Signals the container's process group (and the launcher itself, before its setsid).
    func signal(_ signal: Int32) {
        kill(-pid, signal)
        kill(pid, signal)
    }

    /// Forgets the record once the instance has exited.
    func removeRecord() { unlink(record) }

    /// Reads both pipes into the log until the process has exited and the pipes are drained
    /// (a child of the container may keep them open: exit is not waited on EOF alone).
    static func pump(pid: pid_t, out: Int32, err: Int32, log: CRILogWriter) -> Int32 {
        var open: [(fd: Int32, stream: String)] = [(out, "stdout"), (err, "stderr")]
        var buffer = [UInt8](repeating: 0, count: 65536)
        var code: Int32?
        func readAvailable(_ index: Int) -> Bool {
            let count = read(open[index].fd, &buffer, buffer.count)
            if count > 0 {
                log.append(buffer[0..<count], stream: open[index].stream)
                return true
            }
            if count < 0, errno == EINTR || errno == EAGAIN { return false }
            close(open[index].fd)
            open.remove(at: index)
            return false
        }
        while code == nil {
            if open.isEmpty {
                code = ChildProcess.blockingWait(pid)
                break
            }
            var pollers = open.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollers, nfds_t(pollers.count), 100)
            if ready > 0 {
                for index in pollers.indices.reversed() where pollers[index].revents != 0 {
                    _ = readAvailable(index)
                }
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { code = ChildProcess.exitCode(status) }
        }
        // Exited: take what is left in the pipes without waiting for writers that linger.
        for (fd, _) in open { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        while !open.isEmpty {
            let index = open.count - 1
            while readAvailable(index) {}
            if index < open.count {
                close(open[index].fd)
                open.remove(at: index)
            }
        }
        log.finish()
        return code ?? -1
    }
}

final class ExitFlag: Sendable {
    let value = Mutex(false)
}

/// A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), which tells
/// a recorded pid from a later process that reuses the number.
func startTime(of pid: pid_t) -> UInt64? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // Fields after the name start at 3 (state); start time is 22.
    return fields.count > 19 ? UInt64(fields[19]) : nil
}
