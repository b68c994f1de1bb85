import Foundation
import Synchronization

/// A short system command the root daemon runs (busctl for systemd-resolved), awaited without
/// blocking a thread of Swift's cooperative pool: the process's termination handler resumes the
/// waiting task, and a watchdog task kills the process at the deadline, so a hung command costs
/// its caller a typed error, never a stuck daemon.
public struct ExternalCommand: Sendable {
    /// An absolute path, or a name looked up in PATH and the usual system folders.
    public var executable: String
    public var arguments: [String]
    /// Added to the daemon's own environment.
    public var environment: [String: String]
    public var timeout: Duration

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(10)) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
    }

    public struct Output: Sendable, Equatable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// The command line as a user would type it (for messages).
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// Runs the command to its end; a non-zero exit is returned, not thrown (see `check()`).
    public func run() async throws(ExternalCommandError) -> Output {
        guard let path = Self.locate(executable) else { throw .notFound(executable) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let collected = Collected()
        out.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, toError: false) }
        err.fileHandleForReading.readabilityHandler = { collected.append($0.availableData, toError: true) }
        let exited = Exited()
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            out.fileHandleForReading.readabilityHandler = nil
            err.fileHandleForReading.readabilityHandler = nil
            throw .couldNotStart(commandLine, "\(error)")
        }
        let pid = process.processIdentifier
        let timeout = timeout
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            exited.markKilled()
            kill(pid, SIGKILL)
        }
        await exited.wait()
        watchdog.cancel()
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        // What the handlers had not picked up yet (the writer is gone, so these return at once).
        collected.append(out.fileHandleForReading.readDataToEndOfFile(), toError: false)
        collected.append(err.fileHandleForReading.readDataToEndOfFile(), toError: true)
        try? out.fileHandleForReading.close()
        try? err.fileHandleForReading.close()
        if exited.killed { throw .timedOut(commandLine, timeout) }
        var output = collected.output
        output.status = process.terminationStatus
        return output
    }

    /// Runs the command and throws unless it exits with 0.
    @discardableResult
    public func check() async throws(ExternalCommandError) -> Output {
        let output = try await run()
        guard output.status == 0 else {
            throw .failed(commandLine, output.status, output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return output
    }

    /// The executable's path, or nil when it is not installed.
    public static func locate(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"].map { $0.split(separator: ":").map(String.init) } ?? []
        for folder in path + ["/usr/bin", "/bin", "/usr/sbin", "/sbin"] where access("\(folder)/\(name)", X_OK) == 0 {
            return "\(folder)/\(name)"
        }
        return nil
    }

    private final class Collected: Sendable {
        private let data = Mutex((Data(), Data()))
        func append(_ more: Data, toError: Bool) {
            guard !more.isEmpty else { return }
            data.withLock { if toError { $0.1.append(more) } else { $0.0.append(more) } }
        }
        var output: Output {
            data.withLock { Output(status: 0, stdout: String(decoding: $0.0, as: UTF8.self), stderr: String(decoding: $0.1, as: UTF8.self)) }
        }
    }

    /// The process's end, signalled once by its termination handler, awaited once.
    private final class Exited: Sendable {
        private struct State {
            var done = false
            var killed = false
            var waiter: CheckedContinuation<Void, Never>?
        }
        private let state = Mutex(State())

        func signal() {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                s.done = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }

        func markKilled() { state.withLock { $0.killed = true } }
        var killed: Bool { state.withLock { $0.killed } }

        func wait() async {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { s -> Bool in
                    if s.done { return true }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}

public enum ExternalCommandError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case couldNotStart(String, String)
    case timedOut(String, Duration)
    case failed(String, Int32, String)

    public var description: String {
        switch self {
        case .notFound(let name):
            "\(name) is not installed (not in PATH nor in /usr/bin, /bin, /usr/sbin, /sbin); install it"
        case .couldNotStart(let command, let reason):
            "cannot start `\(command)`: \(reason); check that the root daemon may run it"
        case .timedOut(let command, let timeout):
            "`\(command)` did not finish within \(timeout) and was stopped; run it by hand to see where it hangs"
        case .failed(let command, let status, let message):
            "`\(command)` failed with exit status \(status)\(message.isEmpty ? "" : " (\(message))"); run it by hand to see why"
        }
    }
}
