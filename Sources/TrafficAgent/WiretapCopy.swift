import NIOCore

/// A copy of what one client connection sends, toward one wiretap's workstation. What comes
/// back is read and discarded. The app's answers never wait for it: bytes not yet taken by the
/// kernel (while the stream opens, or because the workstation reads slowly) are counted, and
/// past `bound` the copy is cut for the rest of the connection and the client is told
/// (`copyCut`). A copy whose peer closed is over without a cut (a later request opens another).
final class WiretapCopy: @unchecked Sendable {  // confined to its event loop
    /// How many bytes a copy may keep pending before it is cut.
    static let bound = 1 << 20

    enum State { case connecting, open, cut, closed }

    let target: HTTPUpstream
    private let provider: any HTTPUpstreamProvider
    private let bound: Int
    private(set) var state = State.connecting
    private var channel: (any Channel)?
    private var outbox: [ByteBuffer] = []
    private var finishAfterOutbox = false
    private var finished = false
    /// Bytes handed to this copy and not yet written to its socket.
    private(set) var pending = 0

    init(target: HTTPUpstream, provider: any HTTPUpstreamProvider, bound: Int = WiretapCopy.bound) {
        self.target = target
        self.provider = provider
        self.bound = bound
        provider.connect(target).whenComplete { result in
            switch result {
            case .failure(let error):
                self.cut("its workstation could not be reached (\(error))")
            case .success(let channel):
                guard self.state == .connecting else {
                    channel.close(promise: nil)
                    return
                }
                self.opened(channel)
            }
        }
    }

    private func opened(_ channel: any Channel) {
        self.channel = channel
        state = .open
        do {
            try channel.pipeline.syncOperations.addHandler(Discard { [weak self] in
                if self?.state == .open { self?.state = .closed }
            })
            channel.setOption(.autoRead, value: true).whenFailure { _ in }
        } catch {
            channel.close(promise: nil)
            state = .closed
            return
        }
        let queued = outbox
        outbox = []
        for bytes in queued { write(bytes) }
        channel.flush()
        if finishAfterOutbox { halfClose() }
    }

    var isLive: Bool { state == .connecting || state == .open }

    func send(_ bytes: ByteBuffer) {
        guard isLive, bytes.readableBytes > 0 else { return }
        pending += bytes.readableBytes
        if pending > bound {
            cut("its workstation read more slowly than the app's clients sent (over \(bound / 1024) KiB pending)")
            return
        }
        if state == .connecting { outbox.append(bytes) } else { write(bytes) }
    }

    private func write(_ bytes: ByteBuffer) {
        let n = bytes.readableBytes
        channel?.write(bytes).whenComplete { _ in self.pending -= n }
    }

    func flush() {
        if state == .open { channel?.flush() }
    }

    /// The client half-closed: so does the copy, after what it was sent. Once: the connection's
    /// end (inactive after input closed) calls it again, and a second half-close fails, which
    /// must not turn into a full close: the workstation would see a reset and drop the requests
    /// it has not read yet.
    func finish() {
        guard !finished else { return }
        finished = true
        switch state {
        case .connecting: finishAfterOutbox = true
        case .open: halfClose()
        case .cut, .closed: break
        }
    }

    private func halfClose() {
        let channel = channel
        channel?.writeAndFlush(ByteBuffer()).whenComplete { _ in
            channel?.close(mode: .output).whenFailure { _ in channel?.close(promise: nil) }
        }
    }

    func close() {
        if isLive { state = .closed }
        outbox = []
        channel?.close(promise: nil)
    }

    private func cut(_ reason: String) {
        guard isLive else { return }
        state = .cut
        outbox = []
        if let channel { AgentDataPlane.reset(channel) }
        provider.copyCut(target, reason: reason)
    }

    /// Reads what the wiretap's workstation answers, and drops it.
    private final class Discard: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let onClose: () -> Void
        init(onClose: @escaping () -> Void) { self.onClose = onClose }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
        func channelInactive(context: ChannelHandlerContext) {
            onClose()
            context.fireChannelInactive()
        }
    }
}

/// Copies every byte a client connection sends to each wiretap (a port read as whole
/// connections: no HTTP filter there, or a connection that is not HTTP). It sits before the
/// relay or bridge that carries the connection and passes everything on.
final class ConnectionCopier: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let copies: [WiretapCopy]

    init(copies: [WiretapCopy]) { self.copies = copies }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        for copy in copies { copy.send(bytes) }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for copy in copies { copy.flush() }
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { for copy in copies { copy.finish() } }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        for copy in copies { copy.finish() }
        context.fireChannelInactive()
    }
}
