#if os(Linux)
import Glibc
import LinuxNet
import NIOCore
import NIOPosix
import NetStack
import Synchronization

/// Drives a ``NetStack`` from a ``TUNDevice`` on a NIO event loop: packets are read by an
/// input-only pipe channel on the device (one `channelRead` per packet), fed to the stack, and
/// ACKs flushed once per batch; timers are scheduled tasks; what the stack emits is written
/// straight to the device. Everything touching the stack runs on that loop: the stack's events
/// arrive there, and other threads hand work to it with ``execute(_:)``.
///
/// Why an event loop and not a thread of its own (what this was before): the tunnel's streams
/// live on an event loop too, and when the stack shares it, a request and its answer cross from
/// the stack to the tunnel and back without waking another thread: two thread wake-ups less per
/// round trip, which is most of what separated the added latency from its 0.3 ms target. A
/// poll thread reads small packets faster (VIFTests/TUNReadRateTests), but at the device's
/// MTU of 65000 the packet rate is a few thousand per second and the per-read cost does not show.
public final class NetStackRunner: Sendable {
    /// What runs on the loop: the stack, the device and an optional inbound filter.
    public final class Loop {
        public let stack: NetStack
        public let device: TUNDevice
        /// Called with each packet read; return true to drop it (tests simulate loss with it).
        public var inboundFilter: ((UnsafeRawBufferPointer) -> Bool)?
        /// Runs work on this loop later (what ``NetStackRunner/execute(_:)`` does), for owners
        /// that must hand it to other threads before the runner object is returned.
        public let post: @Sendable (@escaping @Sendable (Loop) -> Void) -> Void

        init(stack: NetStack, device: TUNDevice, post: @escaping @Sendable (@escaping @Sendable (Loop) -> Void) -> Void) {
            self.stack = stack
            self.device = device
            self.post = post
        }
    }

    public let eventLoop: any EventLoop
    private let driver: Driver
    /// A group of our own when the caller gave no loop (shut down with the runner).
    private let ownGroup: MultiThreadedEventLoopGroup?
    private let stopped = Atomic<Bool>(false)

    /// Starts the stack on `eventLoop` (a loop of its own when nil). `setUp` runs on the loop
    /// first, before any packet is read: install `stack.onEvent` there (and wrap
    /// `stack.onPacket` if needed).
    public init(
        device: TUNDevice, configuration: NetStackConfiguration, eventLoop: (any EventLoop)? = nil,
        clock: @escaping @Sendable () -> UInt64 = NetStackRunner.monotonicNanoseconds,
        setUp: @escaping @Sendable (Loop) -> Void
    ) throws(TUNDeviceError) {
        ownGroup = eventLoop == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = eventLoop ?? ownGroup!.next()
        self.eventLoop = loop
        let driver = Driver(clock: clock, eventLoop: loop)
        self.driver = driver
        // Queued first, so the stack exists before the read channel (registered on the same
        // loop after it) hands over a packet.
        loop.execute {
            let stack = NetStack(configuration: configuration, now: clock())
            let runnerLoop = Loop(stack: stack, device: device, post: { work in loop.execute { driver.run(work) } })
            stack.onPacket = { packet in _ = try? device.write(packet) }
            driver.loop = runnerLoop
            setUp(runnerLoop)
        }
        let reading: EventLoopFuture<any Channel>
        do {
            reading = try device.makeReadChannel(group: loop) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PacketReader(driver: driver))
                }
            }
        } catch {
            try? ownGroup?.syncShutdownGracefully()
            throw error
        }
        reading.whenSuccess { channel in driver.attach(channel) }
    }

    /// Runs `body` on the loop soon; safe from any thread (on the loop itself it costs no
    /// wake-up). Pending ACKs and window updates go out once after a batch of such work.
    public func execute(_ body: @escaping @Sendable (Loop) -> Void) {
        let driver = driver
        eventLoop.execute {
            driver.run(body)
        }
    }

    /// Stops reading and the timers; returns once the device's duplicate descriptor is closed
    /// (so the interface can go away). The device itself stays open: close it after.
    public func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let driver = driver
        if eventLoop.inEventLoop {
            _ = driver.stop()
        } else {
            try? eventLoop.flatSubmit { driver.stop() }.wait()
        }
        if let ownGroup {
            // Not from its own thread: that would deadlock; then it ends with the process.
            if !eventLoop.inEventLoop { try? ownGroup.syncShutdownGracefully() }
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static let monotonicNanoseconds: @Sendable () -> UInt64 = {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// The runner's state on its event loop: the read channel, the timer, the batching of flushes.
/// Touched only on that loop (every entry point is a task or a callback there).
private final class Driver: @unchecked Sendable {
    let clock: @Sendable () -> UInt64
    let eventLoop: any EventLoop
    var loop: NetStackRunner.Loop?
    var channel: (any Channel)?
    var timer: Scheduled<Void>?
    var timerDeadline: UInt64 = .max
    var flushScheduled = false
    var stopped = false

    init(clock: @escaping @Sendable () -> UInt64, eventLoop: any EventLoop) {
        self.clock = clock
        self.eventLoop = eventLoop
    }

    /// The device's read channel, once registered (closed at once if the runner stopped first).
    func attach(_ channel: any Channel) {
        if stopped { channel.close(promise: nil) } else { self.channel = channel }
    }

    func run(_ body: @Sendable (NetStackRunner.Loop) -> Void) {
        guard !stopped, let loop else { return }
        body(loop)
        // Work from other threads (consumed bytes, sends) may leave ACKs and window updates
        // pending: send them once, after whatever else is queued now.
        if !flushScheduled {
            flushScheduled = true
            eventLoop.execute { [self] in flushBatch() }
        }
    }

    func flushBatch() {
        flushScheduled = false
        guard !stopped, let loop else { return }
        loop.stack.flush()
        armTimer()
    }

    func input(_ packet: ByteBuffer) {
        guard !stopped, let loop else { return }
        packet.withUnsafeReadableBytes { bytes in
            if let filter = loop.inboundFilter, filter(bytes) { return }
            loop.stack.input(bytes, now: clock())
        }
    }

    /// Keeps one scheduled task at the stack's earliest deadline.
    func armTimer() {
        guard !stopped, let loop else { return }
        guard let deadline = loop.stack.nextDeadline else { return }
        if timer != nil, timerDeadline <= deadline { return }
        timer?.cancel()
        let now = clock()
        let delay = deadline > now ? Int64(deadline - now) : 0
        timerDeadline = deadline
        timer = eventLoop.scheduleTask(in: .nanoseconds(delay)) { [self] in timerFired() }
    }

    func timerFired() {
        timer = nil
        timerDeadline = .max
        guard !stopped, let loop else { return }
        let now = clock()
        if let deadline = loop.stack.nextDeadline, deadline <= now { loop.stack.handleTimers(now: now) }
        armTimer()
    }

    func stop() -> EventLoopFuture<Void> {
        stopped = true
        timer?.cancel()
        timer = nil
        // The stack's callbacks hold its owner's objects: let them all go.
        loop?.stack.onEvent = { _ in }
        loop = nil
        guard let channel else {
            // Still registering: `attach` closes it when it sees `stopped`.
            return eventLoop.makeSucceededVoidFuture()
        }
        self.channel = nil
        return channel.close().recover { _ in }
    }
}

/// Hands each packet read from the device to the stack, and flushes after a batch.
private final class PacketReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let driver: Driver

    init(driver: Driver) {
        self.driver = driver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        driver.input(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        driver.flushBatch()
    }
}
#endif
