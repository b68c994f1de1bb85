#if os(Linux)
import LinuxNet
import NIOCore
import NetStack
import NetworkAddress
import Synchronization
import Tunnel

/// Joins the workstation's TCP connections and UDP flows, terminated by `NetStack` on the
/// runner's thread, to streams of a `TunnelMultiplexer` on a NIO event loop: each local
/// connection becomes one stream whose far end the traffic-manager (or agent) dials.
///
/// Two halves that only talk by message: the stack side (`StackSide`, the runner's) and the
/// stream side (`StreamSide`). Both live on the same event loop, so a message is a task queued
/// on it (no thread wakes for it), yet neither side is re-entered from the other's callbacks.
/// Messages carry whole segments (up to the MTU, 64 KB here), and no byte ever passes through
/// Swift concurrency.
///
/// What the user notices, and how:
/// - A new connection costs one round trip: the handshake is answered locally at once, and the
///   stream's OPEN carries the connection's first bytes (waiting at most `firstDataWait` for
///   them; protocols where the server speaks first pay that once).
/// - A refused or unreachable destination resets the local socket as soon as OPEN_FAILED comes.
/// - Back-pressure end to end: bytes from the workstation are reported consumed to the stack
///   (opening its TCP receive window) only while the stream is writable; bytes from the cluster
///   stop being read from the tunnel (so its window closes) while more than
///   `maxBytesTowardsStack` wait for the stack's send buffer.
public final class TunnelBridge: Sendable {
    public struct Configuration: Sendable {
        /// How long a new connection waits for its first bytes before opening without them.
        public var firstDataWait: TimeAmount = .milliseconds(2)
        /// Bytes from the cluster that may wait for the stack's send buffer before reading stops.
        public var maxBytesTowardsStack: Int = 4 << 20
        /// OPEN's dial timeout (0: the dialer's default).
        public var dialTimeoutMilliseconds: UInt32 = 0
        /// Largest initial data put in an OPEN (the peer's frame limit before its HELLO is 16 KiB).
        public var maxInitialData: Int = 16 * 1024

        public init() {}
    }

    /// Counts for status and tests.
    public struct Statistics: Sendable, Equatable {
        public var opened = 0
        public var openFailed = 0
        public var active = 0
        public var noTunnel = 0
    }

    public let eventLoop: any EventLoop
    let streams: StreamSide
    private let runner: NetStackRunner

    /// Starts the stack on `device` (on `eventLoop`) with every connection bridged to the
    /// multiplexer set with `setMultiplexer` on `eventLoop`. Until one is set, connections are
    /// reset at once.
    public init(
        device: TUNDevice, stack stackConfiguration: NetStackConfiguration, eventLoop: any EventLoop,
        configuration: Configuration = Configuration()
    ) throws(TUNDeviceError) {
        self.eventLoop = eventLoop
        let streams = StreamSide(eventLoop: eventLoop, configuration: configuration)
        self.streams = streams
        // The stack on the streams' loop: messages between the halves wake no other thread.
        runner = try NetStackRunner(device: device, configuration: stackConfiguration, eventLoop: eventLoop) { loop in
            let side = StackSide(stack: loop.stack, streams: streams, post: loop.post)
            loop.stack.onEvent = { side.handle($0) }
            // Runs before any message from this side reaches the event loop (FIFO).
            eventLoop.execute { streams.connect(side) }
        }
    }

    /// The multiplexer of tunnel connection `slot` (nil: that connection is down). A new
    /// connection opens its stream on the up multiplexer with the fewest streams; with none up,
    /// it is reset. Existing streams stay on the multiplexer they were opened on. Several
    /// tunnel connections give parallel flows each a TCP window of their own on a far link
    /// (`./scripts/bench`: 4 flows at 20 ms RTT). Call on the event loop.
    public func setMultiplexer(_ multiplexer: TunnelMultiplexer?, slot: Int = 0) {
        eventLoop.preconditionInEventLoop()
        if streams.multiplexers.count <= slot {
            streams.multiplexers += Array(repeating: nil, count: slot + 1 - streams.multiplexers.count)
        }
        streams.multiplexers[slot] = multiplexer
    }

    /// A multiplexer that is up (the first), for single requests such as DNS lookups; nil while
    /// the tunnel is down. Call on the event loop.
    public var multiplexer: TunnelMultiplexer? {
        eventLoop.preconditionInEventLoop()
        return streams.multiplexers.lazy.compactMap { $0 }.first
    }

    /// Call on the event loop.
    public var statistics: Statistics {
        eventLoop.preconditionInEventLoop()
        return streams.statistics
    }

    /// Stops the stack's thread (local connections are simply dropped; the device stays open).
    public func shutdown() {
        runner.shutdown()
        // The two halves refer to each other; the stack's is gone with the runner.
        let streams = streams
        eventLoop.execute { streams.connect(nil) }
    }
}

/// The stack's half: reacts to the stack's events and to messages from the streams.
/// Touched only through the runner (on its event loop).
final class StackSide: @unchecked Sendable {
    let stack: NetStack
    let streams: StreamSide
    let post: @Sendable (@escaping @Sendable (NetStackRunner.Loop) -> Void) -> Void
    /// Bytes from the cluster the stack's send buffer has not taken yet, per connection.
    private var waiting: [FlowID: Waiting] = [:]

    struct Waiting {
        var chunks: [ByteBuffer] = []
        var finAfter = false
    }

    init(stack: NetStack, streams: StreamSide, post: @escaping @Sendable (@escaping @Sendable (NetStackRunner.Loop) -> Void) -> Void) {
        self.stack = stack
        self.streams = streams
        self.post = post
    }

    private func toStreams(_ body: @escaping @Sendable (StreamSide) -> Void) {
        let streams = streams
        streams.eventLoop.execute { body(streams) }
    }

    func handle(_ event: NetStackEvent) {
        switch event {
        case .connectionRequested(let id):
            // Answered locally at once: the far dial happens with the first bytes (one round trip).
            if stack.accept(id) { toStreams { $0.connectionOpened(id) } }
        case .established:
            break
        case .received(let id, let bytes):
            let buffer = ByteBuffer(bytes: bytes)
            toStreams { $0.received(id, buffer) }
        case .writable(let id):
            drain(id)
        case .peerClosed(let id):
            toStreams { $0.localFinished(id) }
        case .reset(let id):
            waiting[id] = nil
            toStreams { $0.localReset(id) }
        case .closed(let id):
            waiting[id] = nil
            toStreams { $0.localClosed(id) }
        case .datagram(let id, let bytes):
            let buffer = ByteBuffer(bytes: bytes)
            toStreams { $0.datagram(id, buffer) }
        case .flowExpired(let id):
            toStreams { $0.flowExpired(id) }
        }
    }

    // MARK: From the streams

    func consumed(_ id: FlowID, _ count: Int) {
        stack.consumed(id, count: count)
    }

    func deliver(_ id: FlowID, _ bytes: ByteBuffer) {
        waiting[id, default: Waiting()].chunks.append(bytes)
        drain(id)
    }

    func deliverFIN(_ id: FlowID) {
        waiting[id, default: Waiting()].finAfter = true
        drain(id)
    }

    func deliverDatagram(_ id: FlowID, _ bytes: ByteBuffer) {
        _ = bytes.readableBytesView.withUnsafeBytes { try? stack.sendDatagram(id, $0) }
    }

    func abort(_ id: FlowID) {
        waiting[id] = nil
        stack.abort(id)
    }

    /// Hands waiting bytes to the stack's send buffer and tells the streams how much it took.
    private func drain(_ id: FlowID) {
        guard var entry = waiting[id] else { return }
        var taken = 0
        while var first = entry.chunks.first {
            let count: Int
            do {
                count = try first.readableBytesView.withUnsafeBytes { try stack.send(id, $0) }
            } catch {
                // The connection is gone (reset or closed); its stream hears it from the stack's event.
                waiting[id] = nil
                return
            }
            taken += count
            if count < first.readableBytes {
                first.moveReaderIndex(forwardBy: count)
                entry.chunks[0] = first
                break
            }
            entry.chunks.removeFirst()
        }
        if entry.chunks.isEmpty && entry.finAfter {
            stack.close(id)
            waiting[id] = nil
        } else {
            waiting[id] = entry
        }
        if taken > 0 { toStreams { [taken] in $0.acceptedByStack(id, taken) } }
    }
}

/// The event loop's half: one `Flow` per local connection, with its stream. Touched only on the
/// event loop.
final class StreamSide: @unchecked Sendable {
    let eventLoop: any EventLoop
    let configuration: TunnelBridge.Configuration
    /// One per tunnel connection (nil while it is down).
    var multiplexers: [TunnelMultiplexer?] = []
    var statistics = TunnelBridge.Statistics()
    private var stack: StackSide?
    private var flows: [FlowID: Flow] = [:]

    init(eventLoop: any EventLoop, configuration: TunnelBridge.Configuration) {
        self.eventLoop = eventLoop
        self.configuration = configuration
    }

    func connect(_ stack: StackSide?) { self.stack = stack }

    private func toStack(_ body: @escaping @Sendable (StackSide) -> Void) {
        guard let stack else { return }
        stack.post { _ in body(stack) }
    }

    final class Flow: TunnelStreamDelegate {
        let id: FlowID
        unowned let side: StreamSide
        var stream: TunnelStream?
        /// Before the stream opens: the first bytes, and the timer that opens without them.
        var firstData: ByteBuffer?
        var openTimer: Scheduled<Void>?
        /// Bytes taken from the stack but not yet reported consumed (the stream was not writable).
        var unreportedCredit = 0
        /// Bytes handed towards the stack that its send buffer has not taken yet.
        var towardsStack = 0
        var readingPaused = false

        init(id: FlowID, side: StreamSide) {
            self.id = id
            self.side = side
        }

        func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {
            side.statistics.openFailed += 1
            side.toStack { [id] in $0.abort(id) }
        }

        func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {
            let id = id
            if id.transport == .udp {
                side.toStack { $0.deliverDatagram(id, bytes) }
                return
            }
            towardsStack += bytes.readableBytes
            side.toStack { $0.deliver(id, bytes) }
            if towardsStack >= side.configuration.maxBytesTowardsStack, !readingPaused {
                readingPaused = true
                stream.pauseReading()
            }
        }

        func tunnelStreamDidReceiveFIN(_ stream: TunnelStream) {
            side.toStack { [id] in $0.deliverFIN(id) }
        }

        func tunnelStream(_ stream: TunnelStream, didReset reason: TunnelResetReason) {
            side.toStack { [id] in $0.abort(id) }
        }

        func tunnelStreamWritabilityChanged(_ stream: TunnelStream) {
            guard stream.isWritable, unreportedCredit > 0 else { return }
            let credit = unreportedCredit
            unreportedCredit = 0
            side.toStack { [id] in $0.consumed(id, credit) }
        }

        func tunnelStreamDidClose(_ stream: TunnelStream) {
            side.forget(id, stream: stream)
        }
    }

    private func forget(_ id: FlowID, stream: TunnelStream) {
        guard let flow = flows[id], flow.stream === stream else { return }
        flows[id] = nil
        statistics.active = flows.count
    }

    // MARK: From the stack

    func connectionOpened(_ id: FlowID) {
        let flow = Flow(id: id, side: self)
        flows[id] = flow
        statistics.active = flows.count
        flow.openTimer = eventLoop.scheduleTask(in: configuration.firstDataWait) { [weak self] in
            guard let self, let flow = self.flows[id], flow.stream == nil else { return }
            self.open(flow, fin: false)
        }
    }

    func received(_ id: FlowID, _ bytes: ByteBuffer) {
        guard let flow = flows[id] else { return }
        let count = bytes.readableBytes
        if let stream = flow.stream {
            do { try stream.write(bytes) } catch { return }
        } else {
            var first = flow.firstData ?? ByteBuffer()
            var bytes = bytes
            first.writeBuffer(&bytes)
            flow.firstData = first
            open(flow, fin: false)
        }
        guard let stream = flow.stream, stream.isWritable else {
            flow.unreportedCredit += count
            return
        }
        toStack { $0.consumed(id, count) }
    }

    func localFinished(_ id: FlowID) {
        guard let flow = flows[id] else { return }
        if let stream = flow.stream { stream.finish() } else { open(flow, fin: true) }
    }

    func localReset(_ id: FlowID) {
        guard let flow = flows.removeValue(forKey: id) else { return }
        statistics.active = flows.count
        flow.openTimer?.cancel()
        flow.stream?.reset(.connectionReset)
    }

    func localClosed(_ id: FlowID) {
        // Both directions ended; the stream closes once the tunnel has the FINs too.
        guard let flow = flows[id], flow.stream == nil else { return }
        flows[id] = nil
        statistics.active = flows.count
        flow.openTimer?.cancel()
    }

    func datagram(_ id: FlowID, _ bytes: ByteBuffer) {
        if let flow = flows[id], let stream = flow.stream {
            _ = try? stream.writeDatagram(bytes)
            return
        }
        let flow = Flow(id: id, side: self)
        flows[id] = flow
        statistics.active = flows.count
        flow.firstData = bytes
        open(flow, fin: false)
    }

    func flowExpired(_ id: FlowID) {
        guard let flow = flows.removeValue(forKey: id) else { return }
        statistics.active = flows.count
        flow.stream?.reset(.idleTimeout)
    }

    func acceptedByStack(_ id: FlowID, _ count: Int) {
        guard let flow = flows[id] else { return }
        flow.towardsStack -= count
        if flow.readingPaused, flow.towardsStack <= configuration.maxBytesTowardsStack / 2 {
            flow.readingPaused = false
            flow.stream?.resumeReading()
        }
    }

    // MARK: Opening

    private func open(_ flow: Flow, fin: Bool) {
        flow.openTimer?.cancel()
        flow.openTimer = nil
        guard flow.stream == nil else { return }
        let id = flow.id
        let multiplexer = multiplexers.lazy.compactMap { $0 }.min { $0.streamCount < $1.streamCount }
        guard let multiplexer, let tunnelFlow = Self.tunnelFlow(id) else {
            statistics.noTunnel += 1
            flows[id] = nil
            statistics.active = flows.count
            if id.transport == .tcp { toStack { $0.abort(id) } }
            return
        }
        var rest = flow.firstData ?? ByteBuffer()
        flow.firstData = nil
        let limit = id.transport == .udp ? rest.readableBytes : min(rest.readableBytes, configuration.maxInitialData)
        let initial = rest.readSlice(length: limit) ?? ByteBuffer()
        do {
            let stream = try multiplexer.openStream(
                flow: tunnelFlow, initialData: initial, fin: fin && rest.readableBytes == 0,
                dialTimeoutMilliseconds: configuration.dialTimeoutMilliseconds, delegate: flow)
            flow.stream = stream
            statistics.opened += 1
            if rest.readableBytes > 0 {
                try stream.write(rest)
                if fin { stream.finish() }
            }
        } catch {
            statistics.noTunnel += 1
            flows[id] = nil
            statistics.active = flows.count
            if id.transport == .tcp { toStack { $0.abort(id) } }
        }
    }

    static func tunnelFlow(_ id: FlowID) -> TunnelFlow? {
        guard id.source.family == id.destination.family else { return nil }
        return TunnelFlow(
            transport: id.transport == .tcp ? .tcp : .udp,
            source: TunnelEndpoint(address: id.source, port: id.sourcePort),
            destination: TunnelEndpoint(address: id.destination, port: id.destinationPort))
    }
}
#endif
