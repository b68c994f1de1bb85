import CLinuxSupport
import Foundation

extension ChildProcess {
    /// What went wrong starting or running a captured program (its non-zero exit is no error:
    /// see ``Output/status``).
    public enum RunError: Error, Sendable, CustomStringConvertible {
        case cannotStart(SpawnError)
        /// A pipe or temporary file could not be made.
        case system(operation: String, errno: Int32)
        /// It outlived its deadline and was killed; what it had written by then is `partial`.
        case timedOut(commandLine: String, timeout: Duration, partial: Output)

        public var description: String {
            switch self {
            case .cannotStart(let error): "\(error)"
            case .system(let operation, let errno): "cannot \(operation): \(String(cString: strerror(errno)))"
            case .timedOut(let commandLine, let timeout, _): "\(commandLine) did not finish within \(timeout)"
            }
        }
    }

    /// Runs a program to its end from the calling thread and collects its output. Use it where
    /// the thread matters: a thread inside a network namespace starts the program there (a child
    /// inherits its parent thread's namespace). Everywhere else use the async ``run(executable:arguments:environment:)``.
    ///
    /// `input` reaches the program through an unlinked temporary file, not a pipe, so a program
    /// that fails before reading it can never block us or raise SIGPIPE; without it stdin is
    /// /dev/null. `mergingStandardError` sends stderr into stdout's pipe (one text, in order).
    /// At `timeout` the program is killed and ``RunError/timedOut(commandLine:timeout:)`` thrown.
    public static func runOnCallingThread(
        executable: String, arguments: [String], environment: [String]? = nil, input: String? = nil,
        mergingStandardError: Bool = false, timeout: Duration? = nil
    ) throws(RunError) -> Output {
        try capture(
            Launch(executable: executable, arguments: arguments, environment: environment), input: input,
            mergingStandardError: mergingStandardError, timeout: timeout, started: { _ in }, exited: {})
    }

    /// The one captured run: spawn, read both pipes until they close (or the deadline), wait.
    /// `started` gets the pid once it runs; `exited` is called when the program has ended but
    /// before it is reaped, so whoever may kill it meanwhile never signals a reused pid.
    static func capture(
        _ launch: Launch, input: String?, mergingStandardError: Bool, timeout: Duration?,
        started: (pid_t) -> Void, exited: () -> Void
    ) throws(RunError) -> Output {
        let stdin = try inputDescriptor(input)
        defer { close(stdin) }
        let out = try pipe()
        let err: (read: Int32, write: Int32)
        if mergingStandardError {
            err = (-1, out.write)
        } else {
            do { err = try pipe() } catch {
                close(out.read); close(out.write)
                throw error
            }
        }
        var launch = launch
        (launch.stdin, launch.stdout, launch.stderr) = (stdin, out.write, err.write)
        let pid: pid_t
        do {
            pid = try spawn(launch)
        } catch {
            for fd in [out.read, out.write, err.read, err.write] where fd >= 0 { close(fd) }
            throw .cannotStart(error)
        }
        close(out.write)
        if !mergingStandardError { close(err.write) }
        started(pid)
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let (stdout, stderr, timedOut) = readUntilClosed(out.read, err.read, deadline: deadline)
        if timedOut { kill(pid, SIGKILL) }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0, errno == EINTR {}
        exited()
        let status = blockingWait(pid)
        let output = Output(status: status, stdout: Data(stdout), stderr: Data(stderr))
        if timedOut, let timeout { throw .timedOut(commandLine: launch.commandLine, timeout: timeout, partial: output) }
        return output
    }

    /// Reads both descriptors (the second may be -1) until each reaches end of file or the
    /// deadline passes, and closes them.
    private static func readUntilClosed(_ first: Int32, _ second: Int32, deadline: ContinuousClock.Instant?) -> ([UInt8], [UInt8], Bool) {
        var collected: [[UInt8]] = [[], []]
        var open = [first, second]
        defer { for fd in [first, second] where fd >= 0 { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 16384)
        while open.contains(where: { $0 >= 0 }) {
            var timeoutMilliseconds: Int32 = -1
            if let deadline {
                let left = deadline - ContinuousClock.now
                if left <= .zero { return (collected[0], collected[1], true) }
                timeoutMilliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            }
            var pollers = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollers, nfds_t(pollers.count), timeoutMilliseconds)
            if ready < 0, errno != EINTR { break }
            if ready <= 0 { continue }
            for index in pollers.indices where pollers[index].fd >= 0 && pollers[index].revents != 0 {
                let count = read(pollers[index].fd, &buffer, buffer.count)
                if count < 0, errno == EINTR || errno == EAGAIN { continue }
                if count <= 0 { open[index] = -1; continue }
                collected[index] += buffer[0..<count]
            }
        }
        return (collected[0], collected[1], false)
    }

    /// Stdin for a captured run: `input` in an unlinked temporary file, or /dev/null.
    private static func inputDescriptor(_ input: String?) throws(RunError) -> Int32 {
        guard let input else {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .system(operation: "open /dev/null", errno: errno) }
            return fd
        }
        var template = Array("/tmp/child-process-input-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw .system(operation: "create a temporary file", errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        let bytes = Array(input.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            written += count
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// A pipe whose ends close on exec: no other child started meanwhile inherits them.
    public static func pipe() throws(RunError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard lx_pipe(&fds) == 0 else { throw .system(operation: "make a pipe", errno: errno) }
        return (fds[0], fds[1])
    }
}
