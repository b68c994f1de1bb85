import ChildProcess
import Foundation

/// The system's network tools (`ip`, `nft`) run to completion, their stdout and stderr as one
/// text. They run from the calling thread: a thread inside a network namespace (see
/// ``NetworkNamespace``) starts them there, since a child inherits its parent thread's namespace.
public enum SystemTool {
    /// Runs `arguments[0]` (looked up by ``ChildProcess/locate(_:)``) with `input` as stdin and
    /// returns its output; throws when it exits non-zero (unless `allowFailure`) or outlives
    /// `timeout`.
    @discardableResult
    public static func run(
        _ arguments: [String], input: String? = nil, allowFailure: Bool = false, timeout: Duration? = nil
    ) throws(SystemToolError) -> String {
        let command = arguments.joined(separator: " ")
        guard let tool = arguments.first, let path = ChildProcess.locate(tool) else {
            throw .notFound(tool: arguments.first ?? "", command: command)
        }
        let output: ChildProcess.Output
        do {
            output = try ChildProcess.runOnCallingThread(
                executable: path, arguments: Array(arguments.dropFirst()), input: input, mergingStandardError: true, timeout: timeout)
        } catch {
            throw .couldNotRun(command: command, reason: "\(error)")
        }
        let text = String(decoding: output.stdout, as: UTF8.self)
        if output.status != 0, !allowFailure { throw .failed(command: command, status: output.status, output: text) }
        return text
    }

    /// ``run(_:input:allowFailure:timeout:)`` on a thread of its own, for async callers (the
    /// tool runs in the namespace of this process's threads, the host's).
    @discardableResult
    public static func runOnOwnThread(
        _ arguments: [String], input: String? = nil, allowFailure: Bool = false, timeout: Duration? = nil
    ) async throws(SystemToolError) -> String {
        let result: Result<String, SystemToolError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(SystemToolError) -> String in
                    try run(arguments, input: input, allowFailure: allowFailure, timeout: timeout)
                })
            }
            thread.name = "system-tool"
            thread.start()
        }
        return try result.get()
    }
}

/// Why a system tool run failed; each names the command line.
public enum SystemToolError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(tool: String, command: String)
    /// It could not be started, or it outlived its deadline and was killed.
    case couldNotRun(command: String, reason: String)
    case failed(command: String, status: Int32, output: String)

    public var description: String {
        switch self {
        case .notFound(let tool, _):
            "\(tool) is not installed (not in PATH nor in \(ChildProcess.systemFolders.joined(separator: ", "))); install it (iproute2, nftables)"
        case .couldNotRun(_, let reason):
            reason
        case .failed(let command, let status, let output):
            "\(command) failed (exit \(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
        }
    }
}
