#if os(Linux)
import Foundation
import Glibc
import NetStack
import Synchronization

/// Drives a ``NetStack`` from a ``TUNDevice`` on one dedicated thread: reads packets in
/// batches, feeds them to the stack, flushes ACKs once per batch, fires timers, and writes what
/// the stack emits straight to the device. Everything touching the stack runs on that thread:
/// the stack's events arrive there, and other threads hand work to it with ``execute(_:)``.
///
/// A dedicated thread with poll was chosen over a NIO pipe channel by measurement
/// (VIFTests/TUNReadRateTests): it read TUN packets several times faster here, and it cannot
/// coalesce packets into one `writev`.
public final class NetStackRunner: Sendable {
    /// What runs on the loop thread: the stack, the device and an optional inbound filter.
    public final class Loop {
        public let stack: NetStack
        public let device: TUNDevice
        /// Called with each packet read; return true to drop it (tests simulate loss with it).
        public var inboundFilter: ((UnsafeRawBufferPointer) -> Bool)?
        /// Runs work on this loop's thread later (what ``NetStackRunner/execute(_:)`` does), for
        /// owners that must hand it to other threads before the runner object is returned.
        public let post: @Sendable (@escaping @Sendable (Loop) -> Void) -> Void

        init(stack: NetStack, device: TUNDevice, post: @escaping @Sendable (@escaping @Sendable (Loop) -> Void) -> Void) {
            self.stack = stack
            self.device = device
            self.post = post
        }
    }

    private let wakeReader: Int32
    private let wakeWriter: Int32
    private let work = Mutex<[@Sendable (Loop) -> Void]>([])
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts the loop thread. `setUp` runs on it first, before any packet is read: install
    /// `stack.onEvent` there (and wrap `stack.onPacket` if needed).
    public init(
        device: TUNDevice, configuration: NetStackConfiguration,
        clock: @escaping @Sendable () -> UInt64 = NetStackRunner.monotonicNanoseconds,
        setUp: @escaping @Sendable (Loop) -> Void
    ) throws(TUNDeviceError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw .ioFailed(operation: "create its wake-up pipe", interface: device.name, errno: errno)
        }
        for fd in ends {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeReader = ends[0]
        wakeWriter = ends[1]
        let thread = Thread { [self] in
            let stack = NetStack(configuration: configuration, now: clock())
            let loop = Loop(stack: stack, device: device, post: { [self] work in execute(work) })
            stack.onPacket = { packet in _ = try? device.write(packet) }
            setUp(loop)
            run(loop, clock: clock)
            finished.signal()
        }
        thread.name = "netstack-\(device.name)"
        thread.start()
    }

    /// Runs `body` on the loop thread soon; safe from any thread.
    public func execute(_ body: @escaping @Sendable (Loop) -> Void) {
        work.withLock { $0.append(body) }
        var one: UInt8 = 1
        _ = Glibc.write(wakeWriter, &one, 1)
    }

    /// Stops the loop and waits for its thread to end. The device stays open (close it after).
    public func shutdown() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        var one: UInt8 = 1
        _ = Glibc.write(wakeWriter, &one, 1)
        finished.wait()
        Glibc.close(wakeReader)
        Glibc.close(wakeWriter)
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static let monotonicNanoseconds: @Sendable () -> UInt64 = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    private func run(_ loop: Loop, clock: () -> UInt64) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        var drain = [UInt8](repeating: 0, count: 64)
        let stack = loop.stack
        let device = loop.device
        while running.load(ordering: .acquiring) {
            let now = clock()
            let idle: UInt64 = 100_000_000
            let timeout = stack.nextDeadline.map { $0 > now ? min($0 - now, idle) : 0 } ?? idle
            let ready = device.waitReadable(timeout: timeout, alsoWatching: wakeReader)
            if ready.wake {
                while Glibc.read(wakeReader, &drain, drain.count) > 0 {}
                let pending = work.withLock { queue -> [@Sendable (Loop) -> Void] in
                    let taken = queue
                    queue.removeAll()
                    return taken
                }
                for body in pending { body(loop) }
                // Work from other threads (consumed bytes, sends) may leave ACKs and window
                // updates pending: send them now, once per batch.
                if !pending.isEmpty { stack.flush() }
            }
            if ready.device {
                for _ in 0..<256 {
                    guard let n = try? device.read(into: buffer), n > 0 else { break }
                    let packet = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                    if let filter = loop.inboundFilter, filter(packet) { continue }
                    stack.input(packet, now: clock())
                }
                stack.flush()
            }
            let after = clock()
            if let deadline = stack.nextDeadline, deadline <= after { stack.handleTimers(now: after) }
        }
    }
}
#endif
