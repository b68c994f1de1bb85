import Foundation
import SandboxAPIServer
import SandboxNetwork
import Synchronization

/// The thread that starts every container and exec process. Its children get the kernel's
/// parent-death signal when their parent *thread* ends, so that thread must live as long as the
/// node: never a Swift concurrency or Dispatch worker, which come and go.
final class SpawnThread: Sendable {
    private let jobs = Mutex<(queue: [@Sendable () -> Void], stopped: Bool)>(([], false))
    private let signal = DispatchSemaphore(value: 0)

    init() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "sandbox-node-spawn"
        thread.start()
    }

    private func loop() {
        while true {
            signal.wait()
            let job: (@Sendable () -> Void)? = jobs.withLock { state in
                state.queue.isEmpty ? nil : state.queue.removeFirst()
            }
            guard let job else {
                if jobs.withLock({ $0.stopped }) { return }
                continue
            }
            job()
        }
    }

    /// Runs `body` on the spawn thread and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = jobs.withLock { state in
                guard !state.stopped else { return false }
                state.queue.append { continuation.resume(with: Result { try body() }) }
                return true
            }
            guard accepted else {
                continuation.resume(throwing: PodRuntimeError.failed("the node has stopped; no more processes are started"))
                return
            }
            signal.signal()
        }
    }

    /// Ends the thread once the queued jobs are done (the node has stopped every process).
    func stop() {
        jobs.withLock { $0.stopped = true }
        signal.signal()
    }
}

/// Runs blocking work (waitpid, namespace switches, probe dials) on a thread of its own, so it
/// never blocks the Swift concurrency pool or an event loop, and a namespace a thread enters
/// dies with that thread.
func onNewThread<T: Sendable>(_ name: String = "sandbox-node", _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }
}
