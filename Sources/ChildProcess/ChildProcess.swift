import Foundation
import Synchronization

/// The one place this package starts programs. ``spawn(_:)`` is the `posix_spawn` wrapper every
/// other way goes through: a short helper run to completion with its output collected
/// (``run(executable:arguments:environment:)``, ``runOnCallingThread(executable:arguments:environment:input:mergingStandardError:timeout:)``),
/// a program attached to the caller's terminal (``runAttached(executable:arguments:)``), and a
/// daemon that outlives the caller (``spawnDetached(executable:arguments:log:logPermissions:)``).
/// Waiting happens on threads of its own, never by blocking a thread of Swift's cooperative pool.
public enum ChildProcess {
    public struct Output: Sendable {
        /// The exit code as a shell shows it (128 + n when killed by signal n).
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
    }

    /// Runs a short-lived helper program to completion and collects its output: KubeClient's exec
    /// credential plugins, the root daemon's `busctl` calls. `executable` is a path;
    /// `environment` is the program's whole environment. Fails only when the program cannot be
    /// started (or the task was cancelled); a non-zero exit is in `Output.status`. Cancelling the
    /// calling task kills the program (SIGKILL: a program stuck waiting, a plugin for a browser,
    /// a call for a bus, must not outlive the request that needed it, and SIGTERM can be caught).
    ///
    /// `input`, when given, is the program's stdin (else /dev/null); at `timeout` the program is
    /// killed and ``RunError/timedOut(commandLine:timeout:partial:)`` thrown with what it wrote.
    public static func run(
        executable: String, arguments: [String], environment: [String: String], input: String? = nil, timeout: Duration? = nil
    ) async throws -> Output {
        let child = RunningChild()
        let launch = Launch(executable: executable, arguments: arguments, environment: environment.map { "\($0.key)=\($0.value)" })
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
                DedicatedThread.start(name: "child-process") {
                    continuation.resume(with: Result {
                        guard !child.isCancelled else { throw CancellationError() }
                        let output = try capture(
                            launch, input: input, mergingStandardError: false, timeout: timeout,
                            started: child.started, exited: child.exited)
                        if child.isCancelled { throw CancellationError() }
                        return output
                    })
                }
            }
        } onCancel: {
            child.cancel()
        }
    }
}

/// The pid of a running captured program, shared by its thread and a cancellation handler:
/// the program is killed only while it has not been reaped (its pid cannot be reused yet).
private final class RunningChild: Sendable {
    private let state = Mutex<(pid: pid_t?, running: Bool, cancelled: Bool)>((nil, false, false))

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    func started(_ pid: pid_t) {
        state.withLock { state in
            state.pid = pid
            state.running = true
            if state.cancelled { kill(pid, SIGKILL) }
        }
    }

    func exited() { state.withLock { $0.running = false } }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            if state.running, let pid = state.pid { kill(pid, SIGKILL) }
        }
    }
}
