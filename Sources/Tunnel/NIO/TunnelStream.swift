import NIOCore

/// Receives a stream's events. Every call happens on the multiplexer's event loop.
public protocol TunnelStreamDelegate: AnyObject {
    /// Our OPEN was accepted (opener side only).
    func tunnelStreamDidOpen(_ stream: TunnelStream)
    /// Our OPEN failed; `tunnelStreamDidClose` follows.
    func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String)
    /// Bytes (TCP) or one datagram (UDP) from the peer.
    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer)
    /// The peer finished sending (after all its bytes were delivered).
    func tunnelStreamDidReceiveFIN(_ stream: TunnelStream)
    /// The peer reset the stream, or the tunnel went away; `tunnelStreamDidClose` follows.
    func tunnelStream(_ stream: TunnelStream, didReset reason: TunnelResetReason)
    /// A batch of `didReceive` calls ended (flush what they wrote).
    func tunnelStreamReadComplete(_ stream: TunnelStream)
    /// `stream.isWritable` changed.
    func tunnelStreamWritabilityChanged(_ stream: TunnelStream)
    /// The stream is gone; no more calls follow.
    func tunnelStreamDidClose(_ stream: TunnelStream)
}

extension TunnelStreamDelegate {
    public func tunnelStreamDidOpen(_ stream: TunnelStream) {}
    public func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {}
    public func tunnelStreamDidReceiveFIN(_ stream: TunnelStream) {}
    public func tunnelStream(_ stream: TunnelStream, didReset reason: TunnelResetReason) {}
    public func tunnelStreamWritabilityChanged(_ stream: TunnelStream) {}
    public func tunnelStreamReadComplete(_ stream: TunnelStream) {}
    public func tunnelStreamDidClose(_ stream: TunnelStream) {}
}

/// One TCP connection or UDP flow on a `TunnelMultiplexer`, used from its event loop only.
///
/// Writes never block: bytes beyond the peer's window wait in the stream, and `isWritable`
/// turns false when too many wait (stop reading the source until the delegate hears it turn
/// true). Reading: while paused, received bytes stay here and their credit is not returned, so
/// a slow consumer stops the peer after one window.
public final class TunnelStream {
    public let id: TunnelStreamID
    public let flow: TunnelFlow
    /// Set by whoever consumes the stream; it is released when the stream closes.
    public var delegate: (any TunnelStreamDelegate)?
    /// The side that sent the OPEN.
    public let isOutbound: Bool

    unowned let multiplexer: TunnelMultiplexer
    private var readPaused: Bool
    private var inbound = CircularBuffer<ByteBuffer>(initialCapacity: 4)
    private var inboundFIN = false
    private var finDelivered = false
    private var delivering = false
    var reportedWritable = true
    /// Waiting for the multiplexer's read-complete to hear `tunnelStreamReadComplete`.
    var awaitingReadComplete = false
    private var closePending = false
    public private(set) var isClosed = false

    init(id: TunnelStreamID, flow: TunnelFlow, isOutbound: Bool, multiplexer: TunnelMultiplexer, readPaused: Bool) {
        self.id = id
        self.flow = flow
        self.isOutbound = isOutbound
        self.multiplexer = multiplexer
        self.readPaused = readPaused
    }

    public var eventLoop: any EventLoop { multiplexer.eventLoop }

    /// False while too many written bytes wait for window or the tunnel's socket is full.
    public var isWritable: Bool { reportedWritable }

    /// Sends TCP bytes (queued beyond the window). Throws if the stream was closed for sending.
    /// With `flush: false` the frames wait for `flush()` (one syscall per batch of reads).
    public func write(_ bytes: ByteBuffer, flush: Bool = true) throws(TunnelStreamError) {
        try multiplexer.send(bytes, on: self, flush: flush)
    }

    /// Hands frames written with `flush: false` to the socket.
    public func flush() {
        multiplexer.flushDeferred()
    }

    /// Sends one UDP datagram; false when it was dropped for lack of window.
    @discardableResult
    public func writeDatagram(_ bytes: ByteBuffer) throws(TunnelStreamError) -> Bool {
        try multiplexer.sendDatagram(bytes, on: self)
    }

    /// Half-closes: FIN after the queued bytes.
    public func finish() {
        multiplexer.finish(self)
    }

    /// Aborts the stream both ways.
    public func reset(_ reason: TunnelResetReason = .cancelled) {
        multiplexer.reset(self, reason: reason)
    }

    /// Accepts a peer's OPEN once the dial succeeded (dialer side).
    public func accept() throws(TunnelStreamError) {
        try multiplexer.accept(self)
    }

    /// Refuses a peer's OPEN (dialer side); the stream closes.
    public func reject(_ reason: TunnelOpenFailure, message: String = "") {
        multiplexer.reject(self, reason: reason, message: message)
    }

    /// Stops delivering received bytes (back-pressure towards the peer).
    public func pauseReading() { readPaused = true }

    /// Delivers what was held back, then keeps delivering.
    public func resumeReading() {
        readPaused = false
        deliverBuffered()
    }

    // MARK: From the multiplexer

    func receive(_ bytes: ByteBuffer) {
        if readPaused || delegate == nil || !inbound.isEmpty {
            inbound.append(bytes)
            deliverBuffered()
        } else {
            deliver(bytes)
        }
    }

    func receiveFIN() {
        inboundFIN = true
        deliverBuffered()
    }

    func didOpen() { delegate?.tunnelStreamDidOpen(self) }

    func openFailed(_ reason: TunnelOpenFailure, _ message: String) {
        delegate?.tunnelStream(self, openFailed: reason, message: message)
    }

    func didReset(_ reason: TunnelResetReason) {
        discardInbound()
        delegate?.tunnelStream(self, didReset: reason)
    }

    func writabilityChanged() { delegate?.tunnelStreamWritabilityChanged(self) }

    /// The state machine dropped the stream. Bytes and a FIN that arrived while reading was
    /// paused are still owed to the consumer, so the close is reported once they are delivered.
    func didClose() {
        closePending = true
        finalizeIfDrained()
    }

    func discardInbound() {
        inbound.removeAll()
        inboundFIN = false
    }

    private func finalizeIfDrained() {
        guard closePending, !isClosed, inbound.isEmpty, !inboundFIN || finDelivered || delegate == nil else { return }
        isClosed = true
        let d = delegate
        delegate = nil
        d?.tunnelStreamDidClose(self)
    }

    private func deliver(_ bytes: ByteBuffer) {
        let n = bytes.readableBytes
        delegate?.tunnelStream(self, didReceive: bytes)
        multiplexer.consumed(n, on: self)
        multiplexer.deliveredInReadBatch(self)
    }

    func readComplete() {
        awaitingReadComplete = false
        delegate?.tunnelStreamReadComplete(self)
    }

    private func deliverBuffered() {
        guard !delivering else { return }
        delivering = true
        defer { delivering = false }
        while !readPaused, delegate != nil, let bytes = inbound.popFirst() {
            deliver(bytes)
        }
        if inboundFIN, !finDelivered, inbound.isEmpty, !readPaused, let d = delegate {
            finDelivered = true
            d.tunnelStreamDidReceiveFIN(self)
        }
        finalizeIfDrained()
    }
}
