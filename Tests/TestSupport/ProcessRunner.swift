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
