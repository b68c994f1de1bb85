import NIOCore

/// Runs a `TunnelConnectionStateMachine` on a byte-stream channel (a port-forward channel after
/// its `PortForwardHandler`, or a plain TCP channel) and hands out each stream as a
/// `TunnelStream`. Everything happens on the channel's event loop: no per-chunk hop anywhere.
///
/// Add it as the last handler. Open streams with `openStream` (on the event loop); streams
/// the peer opens go to `inboundStreamHandler`, which must `accept` or `reject` them (see
/// `TunnelDialer`). A protocol violation by the peer sends GOAWAY and closes the channel.
public final class TunnelMultiplexer: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Called for each stream the peer opens, with the OPEN (its initial data is already queued
    /// in the stream and is delivered once a delegate is set and `resumeReading` is called).
    public typealias InboundStreamHandler = (TunnelStream, TunnelOpen) -> Void

    private var stateMachine: TunnelConnectionStateMachine
    private var decoder: TunnelFrameDecoder
    private var inboundStreamHandler: InboundStreamHandler?
    private var context: ChannelHandlerContext?
    private var buffered: ByteBuffer?
    private var streams: [TunnelStreamID: TunnelStream] = [:]
    private var unwritable: Set<TunnelStreamID> = []
    private var parentWritable = true
    private var inReadLoop = false
    private var needsFlush = false
    private var deferFlush = false
    private var readBatch: [TunnelStream] = []
    private var processing = false
    private var failed = false
    private var started = false
    private var keepAliveTask: Scheduled<Void>?
    private var lastFrameReceived = NIODeadline.now()
    private var readyPromise: EventLoopPromise<Void>?

    /// The latest round-trip time measured with PING/PONG.
    public private(set) var roundTripTime: TimeAmount?
    /// Called on the event loop when the connection ends, with the error if it failed.
    public var onClose: ((TunnelProtocolError?) -> Void)?

    public let configuration: TunnelConfiguration
    public let role: TunnelConnectionStateMachine.Role

    public init(role: TunnelConnectionStateMachine.Role, configuration: TunnelConfiguration = TunnelConfiguration(),
                inboundStreamHandler: InboundStreamHandler? = nil) {
        self.role = role
        self.configuration = configuration
        self.stateMachine = TunnelConnectionStateMachine(role: role, configuration: configuration)
        self.decoder = TunnelFrameDecoder(maxFrameSize: stateMachine.configuration.maxFrameSize)
        self.inboundStreamHandler = inboundStreamHandler
    }

    /// The event loop everything runs on (valid once the handler was added).
    public var eventLoop: any EventLoop { context!.eventLoop }

    /// Number of live streams.
    public var streamCount: Int { streams.count }

    /// Succeeds when the peer's HELLO arrived (streams may be opened before; they are pipelined).
    public func ready() -> EventLoopFuture<Void> {
        let loop = context!.eventLoop
        if stateMachine.peerHello != nil { return loop.makeSucceededFuture(()) }
        if readyPromise == nil { readyPromise = loop.makePromise() }
        return readyPromise!.futureResult
    }

    // MARK: Opening streams

    /// Opens a stream to `flow.destination`. `initialData` rides in the OPEN (one round trip for
    /// the dial and the first request); `fin` half-closes right after it. Call on the event loop.
    public func openStream(flow: TunnelFlow, initialData: ByteBuffer = ByteBuffer(), fin: Bool = false,
                           dialTimeoutMilliseconds: UInt32 = 0,
                           delegate: (any TunnelStreamDelegate)?) throws(TunnelStreamError) -> TunnelStream {
        guard context != nil, !failed else { throw .goingAway }
        context!.eventLoop.preconditionInEventLoop()
        let id = try stateMachine.openStream(flow: flow, initialData: initialData, fin: fin,
                                             dialTimeoutMilliseconds: dialTimeoutMilliseconds)
        let stream = TunnelStream(id: id, flow: flow, isOutbound: true, multiplexer: self, readPaused: false)
        stream.delegate = delegate
        streams[id] = stream
        afterStateChange()
        checkBackPressure(stream)
        return stream
    }

    /// Graceful shutdown: no new streams either way; existing ones continue.
    public func goAway(message: String = "") {
        stateMachine.goAway(code: .noError, message: message)
        afterStateChange()
    }

    /// Sends a PING; the PONG updates `roundTripTime`.
    public func ping() {
        stateMachine.ping(UInt64(NIODeadline.now().uptimeNanoseconds))
        afterStateChange()
    }

    // MARK: Stream operations (from TunnelStream)

    func send(_ bytes: ByteBuffer, on stream: TunnelStream, flush: Bool) throws(TunnelStreamError) {
        try stateMachine.send(bytes, on: stream.id)
        deferFlush = !flush
        afterStateChange()
        deferFlush = false
        checkBackPressure(stream)
    }

    func flushDeferred() {
        guard needsFlush, !inReadLoop, let context else { return }
        needsFlush = false
        context.flush()
    }

    func sendDatagram(_ bytes: ByteBuffer, on stream: TunnelStream) throws(TunnelStreamError) -> Bool {
        let sent = try stateMachine.sendDatagram(bytes, on: stream.id)
        afterStateChange()
        return sent
    }

    func finish(_ stream: TunnelStream) {
        try? stateMachine.finish(stream.id)
        afterStateChange()
    }

    func reset(_ stream: TunnelStream, reason: TunnelResetReason) {
        stateMachine.reset(stream.id, reason: reason)
        stream.discardInbound()
        afterStateChange()
    }

    func accept(_ stream: TunnelStream) throws(TunnelStreamError) {
        try stateMachine.accept(stream.id)
        afterStateChange()
    }

    func reject(_ stream: TunnelStream, reason: TunnelOpenFailure, message: String) {
        try? stateMachine.reject(stream.id, reason: reason, message: message)
        stream.discardInbound()
        afterStateChange()
    }

    /// Coalesces the consumers' flushes: one per stream per read of the byte stream; deliveries
    /// outside a read (a consumer resuming) complete at once.
    func deliveredInReadBatch(_ stream: TunnelStream) {
        guard !stream.awaitingReadComplete else { return }
        if inReadLoop {
            stream.awaitingReadComplete = true
            readBatch.append(stream)
        } else {
            stream.readComplete()
        }
    }

    func consumed(_ count: Int, on stream: TunnelStream) {
        stateMachine.consumed(count, on: stream.id)
        if !inReadLoop { afterStateChange() }
    }

    // MARK: ChannelHandler

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        parentWritable = context.channel.isWritable
        if context.channel.isActive { start(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        afterStateChange()  // HELLO
        lastFrameReceived = .now()
        scheduleKeepAlive(context: context)
    }

    private func scheduleKeepAlive(context: ChannelHandlerContext) {
        guard let interval = configuration.keepAliveInterval else { return }
        keepAliveTask = context.eventLoop.assumeIsolated().scheduleTask(in: interval) { [weak self] in
            self?.keepAlive()
        }
    }

    /// Pings the peer; a peer silent for `keepAliveTimeout` is gone (its streams are reset).
    private func keepAlive() {
        guard let context, !failed else { return }
        if NIODeadline.now() - lastFrameReceived > configuration.keepAliveTimeout {
            context.close(promise: nil)
            return
        }
        ping()
        scheduleKeepAlive(context: context)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let bytes = unwrapInboundIn(data)
        if buffered == nil || buffered!.readableBytes == 0 {
            buffered = bytes
        } else {
            var incoming = bytes
            buffered!.writeBuffer(&incoming)
        }
        inReadLoop = true
        defer {
            inReadLoop = false
            afterStateChange()
        }
        lastFrameReceived = .now()
        do {
            while !failed, let frame = try decoder.nextPiece(from: &buffered!) {
                let event = try stateMachine.receive(frame)
                if let event { handle(event) }
                afterStateChange()
            }
            if buffered!.readableBytes == 0 {
                buffered = nil
            } else if buffered!.readerIndex > 64 * 1024 {
                buffered!.discardReadBytes()
            }
        } catch {
            fail(error)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if !readBatch.isEmpty {
            let batch = readBatch
            readBatch.removeAll(keepingCapacity: true)
            for stream in batch { stream.readComplete() }
        }
        if needsFlush {
            needsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        parentWritable = context.channel.isWritable
        if parentWritable {
            recoverWritability()
        } else {
            for (id, stream) in streams where stream.reportedWritable {
                stream.reportedWritable = false
                unwritable.insert(id)
                stream.writabilityChanged()
            }
        }
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        shutDown(error: nil)
        context.fireChannelInactive()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Transport errors (e.g. a port-forward failure) end the connection; streams see a reset.
        context.close(promise: nil)
        context.fireErrorCaught(error)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        shutDown(error: nil)
        self.context = nil
    }

    // MARK: Internals

    private func handle(_ event: TunnelEvent) {
        switch event {
        case .ready:
            readyPromise?.succeed(())
            readyPromise = nil
        case .openRequested(let id, let open):
            let stream = TunnelStream(id: id, flow: open.flow, isOutbound: false, multiplexer: self, readPaused: true)
            streams[id] = stream
            if open.initialData.readableBytes > 0 { stream.receive(open.initialData) }
            if open.fin { stream.receiveFIN() }
            if let inboundStreamHandler {
                inboundStreamHandler(stream, open)
            } else {
                stream.reject(.prohibited, message: "this side does not dial")
            }
        case .opened(let id):
            streams[id]?.didOpen()
        case .openFailed(let id, let reason, let message):
            streams[id]?.openFailed(reason, message)
        case .data(let id, let bytes), .datagram(let id, let bytes):
            if let stream = streams[id] {
                stream.receive(bytes)
            } else {
                stateMachine.consumed(bytes.readableBytes, on: id)
            }
        case .remoteFinished(let id):
            streams[id]?.receiveFIN()
        case .reset(let id, let reason):
            streams[id]?.didReset(reason)
        case .windowOpened:
            break  // writability is rechecked after every change
        case .pong(let sent):
            let now = NIODeadline.now().uptimeNanoseconds
            if now >= sent { roundTripTime = .nanoseconds(Int64(now - sent)) }
        case .goingAway(_, _, _, let abandoned):
            for id in abandoned { streams[id]?.openFailed(.refused, "the tunnel is going away") }
        }
    }

    /// Writes queued frames, reports closed streams and writability changes; re-entrant calls
    /// (a delegate writing from a callback) are folded into the running pass.
    private func afterStateChange() {
        guard !processing, let context else { return }
        processing = true
        defer { processing = false }
        repeat {
            writeOutbound(context: context)
            while let id = stateMachine.nextClosedStream() {
                unwritable.remove(id)
                streams.removeValue(forKey: id)?.didClose()
            }
            recoverWritability()
        } while stateMachine.hasOutboundFrames
    }

    private func writeOutbound(context: ChannelHandlerContext) {
        guard stateMachine.hasOutboundFrames else { return }
        var scratch = context.channel.allocator.buffer(capacity: 256)
        while let frame = stateMachine.nextOutboundFrame() {
            switch frame {
            case .data(let id, let payload), .datagram(let id, let payload):
                let type: TunnelWire.FrameType = if case .data = frame { .data } else { .datagram }
                TunnelFrameEncoder.writeHeader(type: type, flags: 0, stream: id, length: payload.readableBytes, into: &scratch)
                if payload.readableBytes <= 4096 {
                    var copy = payload
                    scratch.writeBuffer(&copy)
                } else {
                    // Large payloads go out as their own buffer (gathered by writev, not copied).
                    context.write(wrapOutboundOut(scratch), promise: nil)
                    scratch = context.channel.allocator.buffer(capacity: 256)
                    context.write(wrapOutboundOut(payload), promise: nil)
                }
            default:
                TunnelFrameEncoder.encode(frame, into: &scratch)
            }
        }
        if scratch.readableBytes > 0 { context.write(wrapOutboundOut(scratch), promise: nil) }
        if inReadLoop || deferFlush {
            needsFlush = true
        } else {
            needsFlush = false
            context.flush()
        }
    }

    /// Marks a stream unwritable when too many of its bytes wait for window (or the tunnel's
    /// socket is full); checked after each write, so the common path costs one lookup.
    private func checkBackPressure(_ stream: TunnelStream) {
        guard stream.reportedWritable, !stream.isClosed else { return }
        if !parentWritable || stateMachine.pendingBytes(stream.id) > configuration.streamWriteBufferHighWater {
            stream.reportedWritable = false
            unwritable.insert(stream.id)
            stream.writabilityChanged()
        }
    }

    /// Reports streams writable again once their queue drained to half the high-water mark.
    private func recoverWritability() {
        guard parentWritable, !unwritable.isEmpty else { return }
        let low = configuration.streamWriteBufferHighWater / 2
        for id in unwritable {
            guard let stream = streams[id] else { unwritable.remove(id); continue }
            if stateMachine.pendingBytes(id) <= low {
                unwritable.remove(id)
                stream.reportedWritable = true
                stream.writabilityChanged()
            }
        }
    }

    private func fail(_ error: TunnelProtocolError) {
        guard !failed, let context else { return }
        stateMachine.goAway(code: error.goAwayCode, message: error.description)
        inReadLoop = false
        afterStateChange()
        failed = true
        shutDown(error: error)
        context.close(promise: nil)
    }

    private func shutDown(error: TunnelProtocolError?) {
        keepAliveTask?.cancel()
        keepAliveTask = nil
        let failure: any Error = error ?? ChannelError.ioOnClosedChannel
        readyPromise?.fail(failure)
        readyPromise = nil
        let open = streams.values.sorted { $0.id < $1.id }
        streams.removeAll()
        for stream in open {
            stream.didReset(.goingAway)
            stream.didClose()
        }
        if let onClose {
            self.onClose = nil
            onClose(error)
        }
    }
}
