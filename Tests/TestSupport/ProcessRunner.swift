import Foundation
import Synchronization

/// Runs a command to its end for a test without blocking a thread of Swift's cooperative pool
/// (two threads on a two-core machine: one blocked `waitUntilExit` there stalls every other
/// test's in-process server). Output is collected as it comes; the exit is polled against a
/// deadline, so a hung command fails its test instead of the run.
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
    }

    /// Runs `arguments` (the first one looked up in PATH by /usr/bin/env).
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
        timeout: Duration = .seconds(60)
    ) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        let collected = Collected()
        out.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: false) }
        err.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: true) }
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
        let deadline = ContinuousClock.now + timeout
        var killed = false
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                killed = true
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        // Whatever is still in the pipes (the handlers may not have run for the last bytes).
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        if !killed {
            collected.append(out.fileHandleForReading.readDataToEndOfFile(), error: false)
            collected.append(err.fileHandleForReading.readDataToEndOfFile(), error: true)
        }
        try? out.fileHandleForReading.close()
        try? err.fileHandleForReading.close()
        var result = collected.output
        result.status = killed ? -1 : process.terminationStatus
        result.timedOut = killed
        if killed { result.stderr += "\n[killed after \(timeout)]" }
        return result
    }

    final class Collected: Sendable {
        private let data = Mutex((Data(), Data()))
        func append(_ more: Data, error: Bool) {
            guard !more.isEmpty else { return }
            data.withLock { if error { $0.1.append(more) } else { $0.0.append(more) } }
        }
        var output: Output {
            data.withLock { Output(status: 0, stdout: String(decoding: $0.0, as: UTF8.self), stderr: String(decoding: $0.1, as: UTF8.self)) }
        }
    }
}

extension ProcessRunner {
    /// `run` for synchronous code on a thread of its own (tests on kernel sockets, work inside a
    /// network namespace), which may block that thread until the command ends or `timeout` passes.
    public static func runBlocking(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(60)
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let collected = Collected()
        out.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: false) }
        err.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, error: true) }
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        try process.run()
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let killed = ended.wait(timeout: .now() + seconds) == .timedOut
        if killed {
            kill(process.processIdentifier, SIGKILL)
            ended.wait()
        }
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        if !killed {
            collected.append(out.fileHandleForReading.readDataToEndOfFile(), error: false)
            collected.append(err.fileHandleForReading.readDataToEndOfFile(), error: true)
        }
        try? out.fileHandleForReading.close()
        try? err.fileHandleForReading.close()
        var result = collected.output
        result.status = killed ? -1 : process.terminationStatus
        result.timedOut = killed
        if killed { result.stderr += "\n[killed after \(timeout)]" }
        return result
    }

    /// Starts `arguments` (the first one looked up in PATH) in the background, its output
    /// discarded, for servers and holders a test runs beside its own code, until
    /// ``Background/kill()`` or ``Background/stop(timeout:)``. With `inheritEnvironment` false it
    /// gets `environment` only. With `keepStandardInputOpen` its standard input is a pipe that
    /// stays open until ``Background/closeStandardInput()`` or the test process's end (a holder
    /// that ends when its input closes cannot outlive the test).
    public static func start(
        _ arguments: [String], environment: [String: String] = [:], inheritEnvironment: Bool = true,
        keepStandardInputOpen: Bool = false
    ) throws -> Background {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = inheritEnvironment ? ProcessInfo.processInfo.environment.merging(environment) { $1 } : environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let input = keepStandardInputOpen ? Pipe() : nil
        process.standardInput = input ?? FileHandle.nullDevice
        try process.run()
        return Background(process: process, input: input)
    }

    /// A command started by ``start(_:environment:inheritEnvironment:keepStandardInputOpen:)``.
    public final class Background: @unchecked Sendable {
        // Process is not Sendable; its properties used here are safe from any thread.
        private let process: Process
        private let input: Pipe?

        init(process: Process, input: Pipe?) {
            self.process = process
            self.input = input
        }

        public var pid: Int32 { process.processIdentifier }
        public var isRunning: Bool { process.isRunning }

        /// Closes the command's standard input (when it was kept open).
        public func closeStandardInput() { try? input?.fileHandleForWriting.close() }

        /// Kills it with SIGKILL and returns (for a `defer`; ``stop(timeout:)`` also waits). Not
        /// SIGTERM: a child of Foundation's Process inherits the signal mask of the thread that
        /// started it, and the cooperative pool's threads block SIGTERM, so it might never arrive.
        public func kill() {
            if process.isRunning { _ = Glibc.kill(pid, SIGKILL) }
        }

        /// Kills it (see ``kill()``) and waits, at most `timeout`, until it has ended.
        public func stop(timeout: Duration = .seconds(5)) async {
            closeStandardInput()
            kill()
            try? await waitUntil("\(process.arguments?.first ?? "a command") to end on SIGKILL", timeout: timeout) { !self.isRunning }
        }
    }
}
