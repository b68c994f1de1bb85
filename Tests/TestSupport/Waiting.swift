import Dispatch
import Foundation
import Synchronization

// Waiting for the event itself, with a deadline, instead of sleeping for a guessed time: a
// test on a busy machine waits longer instead of failing, a test on an idle one does not wait
// for nothing, and a test whose event never comes fails at the deadline naming what it waited
// for.

/// Waits until `condition` holds, checking it every `interval`; throws ``WaitTimedOut`` naming
/// `what` ("the watch to start") when it still does not hold after `timeout`.
public func waitUntil(
    _ what: String, timeout: Duration = .seconds(10), pollingEvery interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what, timeout: timeout) }
        try await Task.sleep(for: interval)
    }
}

/// `waitUntil` for code that runs on threads of its own and may block them (tests on kernel
/// sockets): it sleeps its thread between checks.
public func waitUntilBlocking(
    _ what: String, timeout: Duration = .seconds(10), pollingEvery interval: Duration = .milliseconds(2),
    _ condition: () throws -> Bool
) throws {
    let deadline = ContinuousClock.now + timeout
    let pause = useconds_t(max(1, interval.components.seconds * 1_000_000 + interval.components.attoseconds / 1_000_000_000_000))
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what, timeout: timeout) }
        usleep(pause)
    }
}

/// Awaits `event` (an async call that returns when the thing happens: a process exits, a
/// future completes) and returns its result; throws ``WaitTimedOut`` naming `what` when it has
/// not returned after `timeout`. The event's task is then cancelled and not waited for, so an
/// event that ignores cancellation cannot hang the test.
public func waitForEvent<T: Sendable>(
    _ what: String, timeout: Duration = .seconds(10), _ event: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = Outcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.start(continuation,
                          event: Task {
                              do { outcome.finish(with: .success(try await event())) } catch { outcome.finish(with: .failure(error)) }
                          },
                          timer: Task {
                              try? await Task.sleep(for: timeout)
                              outcome.finish(with: .failure(WaitTimedOut(what: what, timeout: timeout)))
                          })
        }
    } onCancel: {
        outcome.finish(with: .failure(CancellationError()))
    }
}

/// A wait that reached its deadline.
public struct WaitTimedOut: Error, CustomStringConvertible {
    /// What the test waited for ("the session to expire").
    public var what: String
    public var timeout: Duration
    public var description: String { "waited \(timeout) for \(what), in vain" }
}

/// The first of an event and its deadline to finish resumes the waiter; the other is cancelled.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var tasks: [Task<Void, Never>] = []
        var done = false
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, event: Task<Void, Never>, timer: Task<Void, Never>) {
        let early: Result<T, any Error>? = state.withLock { state in
            state.tasks = [event, timer]
            guard let early = state.early else {
                state.continuation = continuation
                return nil
            }
            return early
        }
        if let early {
            event.cancel()
            timer.cancel()
            continuation.resume(with: early)
        }
    }

    func finish(with result: Result<T, any Error>) {
        let (continuation, tasks): (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) = state.withLock { state in
            guard !state.done else { return (nil, []) }
            state.done = true
            guard let continuation = state.continuation else {
                // Finished before `start` stored the continuation (or cancelled before it ran).
                state.early = result
                return (nil, [])
            }
            state.continuation = nil
            return (continuation, state.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}
