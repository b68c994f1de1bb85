import CNodeSupport
import Foundation
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
            jobs.withLock { $0.queue.append { continuation.resume(with: Result { try body() }) } }
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

/// Opens a TCP connection from inside the network namespace at `path` (`/run/netns/NAME`):
/// the socket belongs to the namespace it was made in, so only this thread switches.
func connectInNamespace(_ path: String, host: String, port: Int) async throws -> Int32 {
    try await onNewThread("sandbox-node-dial") {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PodRuntimeError.failed("network namespace \(path) is gone: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard sbx_unshare_fs() == 0, sbx_setns(fd, CChar(UInt8(ascii: "n"))) == 0 else {
            throw PodRuntimeError.failed("cannot enter the network namespace \(path): \(String(cString: strerror(errno)))")
        }
        return try blockingConnect(host: host, port: port)
    }
}

/// Dials pod and service addresses from the node's network namespace (probes, webhooks).
struct NodeNamespaceDialer: ClusterDialer {
    let namespacePath: String
    func connect(host: String, port: Int) async throws -> Int32 {
        try await connectInNamespace(namespacePath, host: host, port: port)
    }
}
