import ChildProcess
import Foundation

/// A short system command the root daemon runs (busctl for systemd-resolved): found in PATH,
/// run by `ChildProcess` (no thread of Swift's cooperative pool blocked), and killed at its
/// deadline, so a hung command costs its caller a typed error, never a stuck daemon.
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
        let (arguments, timeout) = (arguments, timeout)
        let environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let finished: ChildProcess.Output
        do {
            // At its deadline ChildProcess kills the program.
            finished = try await ChildProcess.run(executable: path, arguments: arguments, environment: environment, timeout: timeout)
        } catch ChildProcess.RunError.timedOut {
            throw .timedOut(commandLine, timeout)
        } catch {
            throw .couldNotStart(commandLine, "\(error)")
        }
        return Output(status: finished.status, stdout: String(decoding: finished.stdout, as: UTF8.self),
                      stderr: String(decoding: finished.stderr, as: UTF8.self))
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

    /// The executable's path, or nil when it is not installed (``ChildProcess/locate(_:)``).
    public static func locate(_ name: String) -> String? { ChildProcess.locate(name) }
}

public enum ExternalCommandError: Error, Equatable, Sendable, CustomStringConvertible {
    case notFound(String)
    case couldNotStart(String, String)
    case timedOut(String, Duration)
    case failed(String, Int32, String)

    public var description: String {
        switch self {
        case .notFound(let name):
            "\(name) is not installed (not in PATH nor in \(ChildProcess.systemFolders.joined(separator: ", "))); install it"
        case .couldNotStart(let command, let reason):
            "cannot start `\(command)`: \(reason); check that the root daemon may run it"
        case .timedOut(let command, let timeout):
            "`\(command)` did not finish within \(timeout) and was stopped; run it by hand to see where it hangs"
        case .failed(let command, let status, let message):
            "`\(command)` failed with exit status \(status)\(message.isEmpty ? "" : " (\(message))"); run it by hand to see why"
        }
    }
}
