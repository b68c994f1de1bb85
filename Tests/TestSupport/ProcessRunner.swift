import ChildProcess
import Foundation
import Synchronization

/// Runs a command for a test on `ChildProcess`, the package's one way to start a program: the
/// wait is on a thread of its own, never a thread of Swift's cooperative pool (two threads on a
/// two-core machine: one blocked there stalls every other test's in-process server), and a hung
/// command is killed at its deadline, failing its test instead of the run.
public enum ProcessRunner {
    public struct Output: Sendable {
        /// The exit status; -1 when the command was killed at the deadline.
        public var status: Int32
        public var stdout: String
        public var stderr: String
        /// Whether the command was still running at the deadline (and so was killed).
        public var timedOut = false
        /// stdout then stderr, for messages.
        public var combined: String { stderr.isEmpty ? stdout : stdout + stderr }

        init(_ output: ChildProcess.Output, timedOut: Bool = false) {
            status = timedOut ? -1 : output.status
            stdout = String(decoding: output.stdout, as: UTF8.self)
            stderr = String(decoding: output.stderr, as: UTF8.self)
            self.timedOut = timedOut
        }
    }

    /// Runs `arguments` (the first one looked up in PATH by /usr/bin/env), with `stdin` as its
    /// input; at `timeout` it is killed and the output it wrote by then returned, `timedOut` set.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Output {
        do {
            return Output(try await ChildProcess.run(
                executable: "/usr/bin/env", arguments: arguments, environment: merged(environment), input: stdin, timeout: timeout))
        } catch ChildProcess.RunError.timedOut(_, let timeout, let partial) {
            var output = Output(partial, timedOut: true)
            output.stderr += "\n[killed after \(timeout)]"
            return output
        }
    }

    /// `run` for synchronous code on a thread of its own (tests on kernel sockets, work inside a
    /// network namespace), which may block that thread until the command ends or `timeout` passes.
    public static func runBlocking(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) throws -> Output {
        let result = Result { () throws(ChildProcess.RunError) -> ChildProcess.Output in
            try ChildProcess.runOnCallingThread(
                executable: "/usr/bin/env", arguments: arguments,
                environment: merged(environment).map { "\($0.key)=\($0.value)" }, timeout: timeout)
        }
        switch result {
        case .success(let output):
            return Output(output)
        case .failure(.timedOut(_, let timeout, let partial)):
            var output = Output(partial, timedOut: true)
            output.stderr += "\n[killed after \(timeout)]"
            return output
        case .failure(let error):
            throw error
        }
    }

    static func merged(_ environment: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
}

extension ProcessRunner {
    /// Starts `arguments` (the first one looked up in PATH) in the background, for servers and
    /// holders a test runs beside its own code, until ``Background/kill()`` or
    /// ``Background/stop(timeout:)``. Its output is discarded, or kept in ``Background/output``
    /// with `captureOutput` (stdout and stderr as one text, as it comes). With
    /// `inheritEnvironment` false it gets `environment` only. With `keepStandardInputOpen` its
    /// standard input is a pipe that stays open until ``Background/closeStandardInput()`` or the
    /// test process's end (a holder that ends when its input closes cannot outlive the test).
    public static func start(
        _ arguments: [String], environment: [String: String] = [:], inheritEnvironment: Bool = true,
        keepStandardInputOpen: Bool = false, captureOutput: Bool = false
    ) throws -> Background {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { throw ChildProcess.RunError.system(operation: "open /dev/null", errno: errno) }
        defer { close(null) }
        let input = keepStandardInputOpen ? try ChildProcess.pipe() : nil
        let output = captureOutput ? try ChildProcess.pipe() : nil
        let variables = inheritEnvironment ? merged(environment) : environment
        let pid: pid_t
        do {
            pid = try ChildProcess.spawn(ChildProcess.Launch(
                executable: "/usr/bin/env", arguments: arguments, environment: variables.map { "\($0.key)=\($0.value)" },
                stdin: input?.read ?? null, stdout: output?.write ?? null, stderr: output?.write ?? null))
        } catch {
            for fd in [input?.read, input?.write, output?.read, output?.write].compactMap({ $0 }) { close(fd) }
            throw error
        }
        if let input { close(input.read) }
        if let output { close(output.write) }
        return Background(pid: pid, command: arguments.first ?? "a command", input: input?.write, output: output?.read)
    }

    /// A command started by ``start(_:environment:inheritEnvironment:keepStandardInputOpen:captureOutput:)``.
    public final class Background: Sendable {
        public let pid: Int32
        let command: String
        private let shared = Shared()

        /// What the reaper and reader threads share with the test.
        private final class Shared: Sendable {
            let state = Mutex<(running: Bool, input: Int32?)>((true, nil))
            let captured = Mutex(Data())
        }

        init(pid: pid_t, command: String, input: Int32?, output: Int32?) {
            self.pid = pid
            self.command = command
            let shared = shared
            shared.state.withLock { $0.input = input }
            // Reaped on a thread of its own: the pid stays ours (never reused) until then, and a
            // kill only while it runs can never reach another process.
            Thread {
                var info = siginfo_t()
                while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0, errno == EINTR {}
                shared.state.withLock { $0.running = false }
                _ = ChildProcess.blockingWait(pid)
            }.start()
            if let output {
                Thread {
                    var buffer = [UInt8](repeating: 0, count: 16384)
                    while true {
                        let count = read(output, &buffer, buffer.count)
                        if count < 0, errno == EINTR { continue }
                        if count <= 0 { break }
                        shared.captured.withLock { $0.append(contentsOf: buffer[0..<count]) }
                    }
                    close(output)
                }.start()
            }
        }

        public var isRunning: Bool { shared.state.withLock { $0.running } }

        /// What it wrote so far (with `captureOutput`).
        public var output: String { shared.captured.withLock { String(decoding: $0, as: UTF8.self) } }

        /// Closes the command's standard input (when it was kept open).
        public func closeStandardInput() {
            shared.state.withLock { state in
                if let fd = state.input { close(fd) }
                state.input = nil
            }
        }

        /// Kills it with SIGKILL and returns (for a `defer`; ``stop(timeout:)`` also waits). Not
        /// SIGTERM: a server that ignores it would outlive the test.
        public func kill() {
            shared.state.withLock { state in
                if state.running { _ = Glibc.kill(pid, SIGKILL) }
            }
        }

        /// Kills it (see ``kill()``) and waits, at most `timeout`, until it has ended.
        public func stop(timeout: Duration = .seconds(5)) async {
            closeStandardInput()
            kill()
            try? await waitUntil("\(command) to end on SIGKILL", timeout: timeout) { !self.isRunning }
        }

        deinit { closeStandardInput() }
    }
}
