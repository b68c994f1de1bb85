import NIOCore

/// What a received frame means to the application.
public enum TunnelEvent: Equatable, Sendable {
    /// The peer's HELLO arrived; its limits apply from now on.
    case ready(TunnelHello)
    /// The peer asks this side to dial; answer with `accept` or `reject`. The open's initial
    /// data counts as received: call `consumed` once it was delivered.
    case openRequested(TunnelStreamID, TunnelOpen)
    /// Our OPEN succeeded; queued data may have gone out.
    case opened(TunnelStreamID)
    /// Our OPEN failed; the stream is gone (reset the local socket).
    case openFailed(TunnelStreamID, TunnelOpenFailure, String)
    case data(TunnelStreamID, ByteBuffer)
    case datagram(TunnelStreamID, ByteBuffer)
    /// The peer sent FIN: no more bytes will arrive.
    case remoteFinished(TunnelStreamID)
    /// The peer aborted the stream; it is gone.
    case reset(TunnelStreamID, TunnelResetReason)
    /// Send window grew (stream 0: the connection's); queued data may have gone out.
    case windowOpened(TunnelStreamID)
    case pong(UInt64)
    /// The peer is going away; `abandoned` lists our streams it never processed (they are gone).
    case goingAway(lastStreamID: TunnelStreamID, code: TunnelGoAwayCode, message: String, abandoned: [TunnelStreamID])
}

/// A local misuse of a stream (the application's error, not the peer's).
public enum TunnelStreamError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The stream is closed, was reset, or was never opened.
    case noSuchStream(TunnelStreamID)
    /// The stream's sending side was already closed (FIN).
    case sendClosed(TunnelStreamID)
    /// The stream is not in a state for this call (e.g. accepting a stream we opened).
    case wrongState(TunnelStreamID)
    /// A DATA write on a UDP stream or a datagram on a TCP stream.
    case wrongTransport(TunnelStreamID)
    /// GOAWAY was sent or received: no new streams.
    case goingAway
    /// All 2^31 stream ids of this side were used; a new connection is needed.
    case streamIDsExhausted

    public var description: String {
        switch self {
        case .noSuchStream(let s): return "Tunnel stream \(s) is closed; open a new connection."
        case .sendClosed(let s): return "Tunnel stream \(s) was closed for sending; nothing more can be written to it."
        case .wrongState(let s): return "Tunnel stream \(s) is not in a state that allows this; this is a bug in the caller."
        case .wrongTransport(let s): return "Tunnel stream \(s) carries the other transport (TCP data vs UDP datagrams); this is a bug in the caller."
        case .goingAway: return "The tunnel is shutting down; reconnect to open new connections."
        case .streamIDsExhausted: return "The tunnel used all its stream ids; reconnect to open new connections."
        }
    }
}

/// The multiplexed connection as a state machine without I/O: the stream table, stream id
/// allocation (initiator odd, responder even), both levels of credit-based flow control, and
/// the handshake. Frames to send accumulate in an outbound queue (`nextOutboundFrame`), streams
/// that ended in `nextClosedStream`; received frames become `TunnelEvent`s or typed errors.
public struct TunnelConnectionStateMachine {
    /// The side that opened the byte stream is the initiator (odd stream ids).
    public enum Role: Sendable { case initiator, responder }

    public let role: Role
    public let configuration: TunnelConfiguration

    /// The peer's HELLO, once received.
    public private(set) var peerHello: TunnelHello?
    private var outbound = CircularBuffer<TunnelFrame>(initialCapacity: 16)
    private var closed: [TunnelStreamID] = []

    private var connectionSendWindow = Int(TunnelWire.defaultConnectionWindow)
    private var connectionReceiveWindow: Int
    private var connectionConsumed = 0
    private var peerMaxFrameSize = Int(TunnelWire.minimumMaxFrameSize)

    private var streams: [TunnelStreamID: TunnelStreamState] = [:]
    private var nextLocalID: TunnelStreamID
    private var highestPeerID: TunnelStreamID = 0
    private var peerStreamCount = 0
    /// Streams with queued data that wait for connection-level window, in arrival order.
    private var blockedOnConnection: [TunnelStreamID] = []
    private var goAwaySent: TunnelStreamID?
    private var goAwayReceived: TunnelStreamID?

    /// Starts a connection; the HELLO is the first outbound frame.
    public init(role: Role, configuration: TunnelConfiguration = TunnelConfiguration()) {
        self.role = role
        self.configuration = configuration.normalized
        self.nextLocalID = role == .initiator ? 1 : 2
        self.connectionReceiveWindow = Int(self.configuration.connectionWindow)
        outbound.append(.hello(TunnelHello(maxFrameSize: self.configuration.maxFrameSize,
                                           connectionWindow: self.configuration.connectionWindow)))
    }

    // MARK: Queries

    /// The next frame to write, oldest first.
    public mutating func nextOutboundFrame() -> TunnelFrame? { outbound.popFirst() }
    public var hasOutboundFrames: Bool { !outbound.isEmpty }
    /// The next stream that ended (closed both ways, reset, or failed to open).
    public mutating func nextClosedStream() -> TunnelStreamID? { closed.isEmpty ? nil : closed.removeFirst() }
    /// The stream exists (not yet closed).
    public func contains(_ id: TunnelStreamID) -> Bool { streams[id] != nil }
    public var streamCount: Int { streams.count }
    /// Bytes written on the stream that wait for window.
    public func pendingBytes(_ id: TunnelStreamID) -> Int { streams[id]?.pendingBytes ?? 0 }
    /// What the peer still lets us send on the stream (ignoring the connection window).
    public func sendWindow(_ id: TunnelStreamID) -> Int { streams[id]?.sendWindow ?? 0 }
    public var connectionSendWindowRemaining: Int { connectionSendWindow }
    public var isGoingAway: Bool { goAwaySent != nil || goAwayReceived != nil }

    // MARK: Local actions

    /// Opens a stream; `initialData` rides in the OPEN frame as far as it fits (the rest follows
    /// as DATA after OPEN_OK), and `fin` closes the sending side right after it.
    public mutating func openStream(flow: TunnelFlow, initialData: ByteBuffer = ByteBuffer(), fin: Bool = false,
                                    dialTimeoutMilliseconds: UInt32 = 0) throws(TunnelStreamError) -> TunnelStreamID {
        guard !isGoingAway else { throw .goingAway }
        let id = nextLocalID
        guard id <= UInt32.max - 2 else { throw .streamIDsExhausted }
        nextLocalID += 2
        var state = TunnelStreamState(phase: .openSent, transport: flow.transport, sendWindow: 0,
                                      receiveWindow: Int(configuration.streamWindow))
        var data = initialData
        // The OPEN frame must fit the peer's frame limit; initial data counts against the
        // connection window only (the dialer buffers it until its dial completes).
        let room = min(peerMaxFrameSize - 64, connectionSendWindow)
        let inline = flow.transport == .udp
            ? (data.readableBytes <= room ? data.readableBytes : 0)  // a datagram is never split
            : min(data.readableBytes, max(room, 0))
        let first = data.readSlice(length: inline)!
        connectionSendWindow -= inline
        if flow.transport == .tcp { state.enqueue(data) }  // a datagram that does not fit is dropped
        let finInline = fin && state.pendingBytes == 0
        if fin && !finInline { state.finQueued = true }
        if finInline { state.finQueued = true; state.localFinished = true }
        streams[id] = state
        outbound.append(.open(stream: id, TunnelOpen(flow: flow, window: configuration.streamWindow,
                                                     dialTimeoutMilliseconds: dialTimeoutMilliseconds,
                                                     initialData: first, fin: finInline)))
        return id
    }

    /// Accepts a peer's OPEN (the dial succeeded): OPEN_OK, and data may flow.
    public mutating func accept(_ id: TunnelStreamID) throws(TunnelStreamError) {
        guard var state = streams[id] else { throw .noSuchStream(id) }
        guard state.phase == .openReceived else { throw .wrongState(id) }
        state.phase = .open
        streams[id] = state
        outbound.append(.openOK(stream: id, window: UInt32(state.receiveWindowSize)))
        flush(id)
    }

    /// Rejects a peer's OPEN (the dial failed): OPEN_FAILED, and the stream is gone.
    public mutating func reject(_ id: TunnelStreamID, reason: TunnelOpenFailure, message: String = "") throws(TunnelStreamError) {
        guard let state = streams[id] else { throw .noSuchStream(id) }
        guard state.phase == .openReceived else { throw .wrongState(id) }
        outbound.append(.openFailed(stream: id, reason: reason, message: String(decoding: message.utf8.prefix(512), as: UTF8.self)))
        remove(id)
    }

    /// Queues bytes on a TCP stream; they go out as far as both windows allow.
    public mutating func send(_ bytes: ByteBuffer, on id: TunnelStreamID) throws(TunnelStreamError) {
        // The state is taken out of the table while it changes, so its queue is never shared
        // (a copy-on-write of the queue per write otherwise).
        guard var state = streams.removeValue(forKey: id) else { throw .noSuchStream(id) }
        guard state.transport == .tcp, state.isWritable else {
            streams[id] = state
            throw state.transport == .tcp ? .sendClosed(id) : .wrongTransport(id)
        }
        state.enqueue(bytes)
        flush(id, &state)
        store(id, state)
    }

    /// Sends one datagram on a UDP stream if the windows have room for it; returns false when it
    /// was dropped (UDP may lose datagrams; queueing them would only add latency).
    @discardableResult
    public mutating func sendDatagram(_ bytes: ByteBuffer, on id: TunnelStreamID) throws(TunnelStreamError) -> Bool {
        guard var state = streams[id] else { throw .noSuchStream(id) }
        guard state.transport == .udp else { throw .wrongTransport(id) }
        guard state.isWritable else { throw .sendClosed(id) }
        let n = bytes.readableBytes
        guard state.phase == .open, n <= state.sendWindow, n <= connectionSendWindow,
              n <= peerMaxFrameSize else { return false }
        state.sendWindow -= n
        connectionSendWindow -= n
        streams[id] = state
        outbound.append(.datagram(stream: id, bytes))
        return true
    }

    /// Closes the sending side: FIN after the queued bytes.
    public mutating func finish(_ id: TunnelStreamID) throws(TunnelStreamError) {
        guard var state = streams[id] else { throw .noSuchStream(id) }
        guard state.isWritable else { return }
        state.finQueued = true
        streams[id] = state
        flush(id)
    }

    /// Aborts a stream both ways: RST, and the stream is gone.
    public mutating func reset(_ id: TunnelStreamID, reason: TunnelResetReason) {
        guard streams[id] != nil else { return }
        outbound.append(.reset(stream: id, reason: reason))
        remove(id)
    }

    /// The application took `count` received bytes of the stream; credit goes back to the peer
    /// in quarters of the windows (fewer WINDOW_UPDATEs, the pipe stays full).
    public mutating func consumed(_ count: Int, on id: TunnelStreamID) {
        guard count > 0 else { return }
        connectionConsumed += count
        if connectionConsumed >= Int(configuration.connectionWindow) / 4 {
            outbound.append(.windowUpdate(stream: 0, increment: UInt32(connectionConsumed)))
            connectionReceiveWindow += connectionConsumed
            connectionConsumed = 0
        }
        guard var state = streams[id], !state.remoteFinished else { return }
        state.consumedUnacknowledged += count
        if state.consumedUnacknowledged >= state.receiveWindowSize / 4 {
            outbound.append(.windowUpdate(stream: id, increment: UInt32(state.consumedUnacknowledged)))
            state.receiveWindow += state.consumedUnacknowledged
            state.consumedUnacknowledged = 0
        }
        streams[id] = state
    }

    /// Sends a PING carrying `value` (e.g. a timestamp, to measure RTT from the PONG).
    public mutating func ping(_ value: UInt64) {
        outbound.append(.ping(value))
    }

    /// Announces that this side opens no more streams and processes no new peer streams.
    public mutating func goAway(code: TunnelGoAwayCode, message: String = "") {
        guard goAwaySent == nil else { return }
        goAwaySent = highestPeerID
        outbound.append(.goAway(lastStreamID: highestPeerID, code: code, message: message))
    }

    // MARK: Received frames

    /// Applies a frame from the peer. A thrown error ends the connection (send GOAWAY with its
    /// `goAwayCode`, then close).
    public mutating func receive(_ frame: TunnelFrame) throws(TunnelProtocolError) -> TunnelEvent? {
        guard peerHello != nil else {
            guard case .hello(let hello) = frame else { throw .notATunnel }
            guard hello.version == TunnelWire.version else { throw .unsupportedVersion(hello.version) }
            peerHello = hello
            peerMaxFrameSize = Int(hello.maxFrameSize)
            connectionSendWindow += Int(hello.connectionWindow) - Int(TunnelWire.defaultConnectionWindow)
            flushBlocked()
            return .ready(hello)
        }
        switch frame {
        case .hello:
            throw .duplicateHello
        case .open(let id, let open):
            return try receiveOpen(id, open)
        case .openOK(let id, let window):
            guard try isLive(id) else { return nil }
            guard streams[id]!.phase == .openSent, isLocal(id) else { throw .unexpectedFrame(stream: id, frame: "OPEN_OK") }
            streams[id]!.phase = .open
            streams[id]!.sendWindow = Int(window)
            flush(id)
            return .opened(id)
        case .openFailed(let id, let reason, let message):
            guard try isLive(id) else { return nil }
            guard streams[id]!.phase == .openSent, isLocal(id) else { throw .unexpectedFrame(stream: id, frame: "OPEN_FAILED") }
            remove(id)
            return .openFailed(id, reason, message)
        case .data(let id, let bytes):
            return try receiveData(id, bytes, transport: .tcp) ? .data(id, bytes) : nil
        case .datagram(let id, let bytes):
            return try receiveData(id, bytes, transport: .udp) ? .datagram(id, bytes) : nil
        case .windowUpdate(0, let increment):
            guard connectionSendWindow + Int(increment) <= TunnelWire.maximumWindow else { throw .windowOverflow(0) }
            connectionSendWindow += Int(increment)
            flushBlocked()
            return .windowOpened(0)
        case .windowUpdate(let id, let increment):
            guard try isLive(id) else { return nil }
            guard streams[id]!.sendWindow + Int(increment) <= TunnelWire.maximumWindow else { throw .windowOverflow(id) }
            streams[id]!.sendWindow += Int(increment)
            flush(id)
            return .windowOpened(id)
        case .fin(let id):
            guard try isLive(id) else { return nil }
            guard streams[id]!.phase != .openSent, !streams[id]!.remoteFinished else {
                throw .unexpectedFrame(stream: id, frame: "FIN")
            }
            streams[id]!.remoteFinished = true
            if streams[id]!.isClosed { remove(id) }
            return .remoteFinished(id)
        case .reset(let id, let reason):
            guard try isLive(id) else { return nil }
            remove(id)
            return .reset(id, reason)
        case .ping(let value):
            outbound.append(.pong(value))
            return nil
        case .pong(let value):
            return .pong(value)
        case .goAway(let last, let code, let message):
            goAwayReceived = last
            let abandoned = streams.keys.filter { isLocal($0) && $0 > last }.sorted()
            for id in abandoned { remove(id) }
            return .goingAway(lastStreamID: last, code: code, message: message, abandoned: abandoned)
        }
    }

    private mutating func receiveOpen(_ id: TunnelStreamID, _ open: TunnelOpen) throws(TunnelProtocolError) -> TunnelEvent? {
        guard !isLocal(id), id > highestPeerID else { throw .invalidStreamID(id) }
        highestPeerID = id
        let initial = open.initialData.readableBytes
        guard initial <= connectionReceiveWindow else { throw .flowControlViolation(0) }
        connectionReceiveWindow -= initial
        guard goAwaySent == nil, peerStreamCount < configuration.maxConcurrentPeerStreams else {
            outbound.append(.openFailed(stream: id, reason: .prohibited, message: isGoingAway ? "tunnel going away" : "too many streams"))
            consumed(initial, on: 0)
            return nil
        }
        var state = TunnelStreamState(phase: .openReceived, transport: open.flow.transport, sendWindow: Int(open.window),
                                      receiveWindow: Int(configuration.streamWindow))
        state.remoteFinished = open.fin
        streams[id] = state
        peerStreamCount += 1
        return .openRequested(id, open)
    }

    /// Checks both windows; false when the stream is already gone (the bytes are dropped and
    /// their connection credit returned).
    private mutating func receiveData(_ id: TunnelStreamID, _ bytes: ByteBuffer,
                                      transport: TunnelFlow.Transport) throws(TunnelProtocolError) -> Bool {
        let n = bytes.readableBytes
        guard n <= connectionReceiveWindow else { throw .flowControlViolation(0) }
        guard try isLive(id) else {
            connectionReceiveWindow -= n
            consumed(n, on: 0)
            return false
        }
        let state = streams[id]!
        let name = transport == .tcp ? "DATA" : "DATAGRAM"
        guard state.transport == transport, state.phase != .openSent, !state.remoteFinished else {
            throw .unexpectedFrame(stream: id, frame: name)
        }
        // Before OPEN_OK the opener has no stream window at all.
        guard state.phase == .open, n <= state.receiveWindow else { throw .flowControlViolation(id) }
        connectionReceiveWindow -= n
        streams[id]!.receiveWindow -= n
        return true
    }

    // MARK: Helpers

    private func isLocal(_ id: TunnelStreamID) -> Bool { (id & 1 == 1) == (role == .initiator) }

    /// True when the stream is in the table; false when it existed once and is gone (late frames
    /// after RST are normal); throws for ids never used.
    private func isLive(_ id: TunnelStreamID) throws(TunnelProtocolError) -> Bool {
        if streams[id] != nil { return true }
        let everUsed = isLocal(id) ? id < nextLocalID : id <= highestPeerID
        guard everUsed else { throw .unknownStream(id) }
        return false
    }

    private mutating func remove(_ id: TunnelStreamID) {
        guard streams.removeValue(forKey: id) != nil else { return }
        if !isLocal(id) { peerStreamCount -= 1 }
        closed.append(id)
    }

    /// Sends as much queued data (then the FIN) as both windows allow.
    private mutating func flush(_ id: TunnelStreamID) {
        guard var state = streams.removeValue(forKey: id) else { return }
        flush(id, &state)
        store(id, state)
    }

    private mutating func flush(_ id: TunnelStreamID, _ state: inout TunnelStreamState) {
        guard state.phase == .open else { return }
        while state.pendingBytes > 0 && state.sendWindow > 0 {
            guard connectionSendWindow > 0 else {
                if !blockedOnConnection.contains(id) { blockedOnConnection.append(id) }
                break
            }
            let limit = min(state.sendWindow, connectionSendWindow, peerMaxFrameSize)
            guard let chunk = state.dequeue(upTo: limit) else { break }
            state.sendWindow -= chunk.readableBytes
            connectionSendWindow -= chunk.readableBytes
            outbound.append(.data(stream: id, chunk))
        }
        if state.pendingBytes == 0 && state.finQueued && !state.localFinished {
            state.localFinished = true
            outbound.append(.fin(stream: id))
        }
    }

    /// Puts a stream's state back, or retires it when both directions are done.
    private mutating func store(_ id: TunnelStreamID, _ state: TunnelStreamState) {
        streams[id] = state
        if state.isClosed { remove(id) }
    }

    private mutating func flushBlocked() {
        guard !blockedOnConnection.isEmpty else { return }
        let waiting = blockedOnConnection
        blockedOnConnection.removeAll(keepingCapacity: true)
        for id in waiting { flush(id) }
    }
}
