import Foundation
import Synchronization

/// Runs a short-lived helper program to completion and collects its output: KubeClient's exec
/// credential plugins, the root daemon's `busctl` calls. The waiting happens on Dispatch threads
/// and a termination handler, never by blocking a thread of Swift's cooperative pool; cancelling
/// the calling task kills the program.
public enum ChildProcess {
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data
    }

    /// `executable` is a path; `environment` is the program's whole environment. Fails only when
    /// the program cannot be started (or the task was cancelled); a non-zero exit is in
    /// `Output.status`.
    public static func run(executable: String, arguments: [String], environment: [String: String]) async throws -> Output {
        let run = Run()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Output, any Error>) in
                run.start(executable: executable, arguments: arguments, environment: environment, continuation: continuation)
            }
        } onCancel: {
            run.cancel()
        }
    }

    /// One program run. `Process` is not `Sendable`; every access after launch goes through
    /// the lock or happens after termination, which is what makes sharing it safe.
    private final class Run: @unchecked Sendable {
        private struct State {
            var process: Process?
            var cancelled = false
            var stdout = Data()
            var stderr = Data()
        }

        private let state = Mutex(State())

        func start(
            executable: String, arguments: [String], environment: [String: String],
            continuation: CheckedContinuation<Output, any Error>
        ) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            let stdoutPipe = Pipe()
            let stderrPipe = Pipe()
            process.standardOutput = stdoutPipe
            process.standardError = stderrPipe

            // Finished when the program has exited and both pipes reached end of file.
            let group = DispatchGroup()
            group.enter()
            process.terminationHandler = { _ in group.leave() }

            let launched: Result<Void, any Error> = state.withLock { state in
                if state.cancelled { return .failure(CancellationError()) }
                do {
                    try process.run()
                    state.process = process
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            if case .failure(let error) = launched {
                continuation.resume(throwing: error)
                return
            }
            for (pipe, isStdout) in [(stdoutPipe, true), (stderrPipe, false)] {
                group.enter()
                // A queue of its own (not the global one): the read blocks until the program
                // closes the pipe, and private queues may get a fresh thread for that at once,
                // where blocked work on the width-limited global queue waits for the pool to grow.
                DispatchQueue(label: "child-process.output").async {
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    self.state.withLock { state in
                        if isStdout { state.stdout = data } else { state.stderr = data }
                    }
                    group.leave()
                }
            }
            group.notify(queue: .global()) {
                let (output, cancelled) = self.state.withLock { state in
                    (Output(status: process.terminationStatus, stdout: state.stdout, stderr: state.stderr), state.cancelled)
                }
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    continuation.resume(returning: output)
                }
            }
        }

        func cancel() {
            state.withLock { state in
                state.cancelled = true
                // SIGKILL: a program stuck waiting (a plugin for a browser, a call for a bus) must
                // not outlive the request that needed it, and SIGTERM can be caught or lost.
                if let process = state.process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
            }
        }
    }
}
