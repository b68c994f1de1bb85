import HTTPRouting
import Logging
import NIOCore
import Tunnel

/// Routes each HTTP/1.1 request of one client connection where `provider.route` says: the app,
/// or a client's workstation, with copies to wiretaps. Consecutive requests (keep-alive or
/// pipelined) may go to different places; answers go back in request order. One upstream
/// connection per destination, reused while it lasts. Only heads are parsed into values; body
/// bytes are forwarded as the slices they were read in.
///
/// It hands the connection on when it stops being HTTP/1.1: the HTTP/2 preface or an
/// `Upgrade: h2c` first request to `HTTP2Splitter`, a first request that is no HTTP to
/// `notHTTP` (the bytes read so far replayed), and a `101` (or a CONNECT's 2xx) turns the
/// connection and that upstream into a byte relay.
///
/// Confined to the connection's event loop (which the data plane shares).
final class HTTP1Router: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// How many answer bytes may wait for an earlier answer before that upstream stops being
    /// read (its server then waits in the kernel's buffers).
    static let answerBufferLimit = 1 << 20

    let agentPort: Int
    let provider: any HTTPUpstreamProvider
    let logger: Logger
    /// Takes a connection whose first bytes are no HTTP (they are replayed into its pipeline).
    let notHTTP: (any Channel, ByteBuffer, _ inputClosed: Bool) -> Void

    private var context: ChannelHandlerContext?
    private var reader = HTTP1Reader(role: .request)
    private var upstreams: [HTTPUpstream: Upstream] = [:]
    private var copies: [HTTPUpstream: WiretapCopy] = [:]
    /// Requests whose answers are not all written back yet, in order.
    private var exchanges: [Exchange] = []
    /// Where the body of the request being read goes.
    private var current: (exchange: Exchange, copies: [WiretapCopy])?
    /// An `Upgrade: h2c` first request being read whole for the splitter.
    private var h2c: (head: HTTP1RequestHead, body: ByteBuffer)?
    private var inputClosed = false
    /// A request or answer said the connection ends after it: nothing more is read.
    private var lastExchangeSeen = false
    private var done = false

    init(agentPort: Int, provider: any HTTPUpstreamProvider, logger: Logger,
         notHTTP: @escaping (any Channel, ByteBuffer, Bool) -> Void) {
        self.agentPort = agentPort
        self.provider = provider
        self.logger = logger
        self.notHTTP = notHTTP
    }

    // MARK: The client's side

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// A connection accepted a moment ago may be registered (and active) only now: a read asked
    /// before that was dropped.
    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        readMoreIfReady()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        let bytes = unwrapInboundIn(data)
        do {
            handle(try reader.feed(bytes))
        } catch {
            readFailed(error)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for upstream in upstreams.values { upstream.channel?.flush() }
        for copy in copies.values { copy.flush() }
        readMoreIfReady()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event, !done else { return }
        inputClosed = true
        do {
            handle(try reader.feedEOF())
        } catch {
            readFailed(error)
            return
        }
        for upstream in upstreams.values { upstream.finish() }
        for copy in copies.values { copy.finish() }
        pump()
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        shutDown()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        updateUpstreamReading()
        context.fireChannelWritabilityChanged()
    }

    /// Reads the next batch when every upstream can take more (back-pressure toward the client).
    func readMoreIfReady() {
        guard let context, !done, !lastExchangeSeen, !inputClosed, h2c == nil, !reader.awaitingAnswer else { return }
        for upstream in upstreams.values where !upstream.canTakeMore { return }
        context.read()
    }

    private func handle(_ parts: [HTTP1Part]) {
        for part in parts {
            // After a request that ends the connection, nothing more is read.
            if lastExchangeSeen, current == nil { return }
            switch part {
            case .request(let head, let wire):
                startRequest(head, wire: wire)
            case .body(let bytes), .framing(let bytes):
                if h2c != nil, case .body(var content) = part {
                    h2c!.body.writeBuffer(&content)
                    continue
                }
                forward(bytes)
            case .end:
                if let upgrade = h2c {
                    handOverH2C(upgrade.head, body: upgrade.body)
                    return
                }
                current = nil
            case .response:
                break
            }
        }
    }

    private func startRequest(_ head: HTTP1RequestHead, wire: ByteBuffer) {
        if head.isH2CUpgrade, exchanges.isEmpty, upstreams.isEmpty {
            h2c = (head, ByteBuffer())
            return
        }
        let summary = HTTPRequestSummary(method: head.method, path: head.path, headers: head.fields.map { ($0.name, $0.value) })
        let route = provider.route(agentPort: agentPort, request: summary)
        let upstream = upstream(for: route.answer)
        upstream.reader.expectResponse(to: head.method)
        let exchange = Exchange(upstream: upstream, keepAlive: head.keepAlive, leavesHTTP: head.asksToLeaveHTTP1)
        upstream.exchanges.append(exchange)
        exchanges.append(exchange)
        if !head.keepAlive { lastExchangeSeen = true }
        current = (exchange, route.copies.compactMap(copy(for:)))
        forward(wire)
    }

    private func forward(_ bytes: ByteBuffer) {
        guard let current else { return }
        current.exchange.upstream.send(bytes)
        for copy in current.copies { copy.send(bytes) }
    }

    private func upstream(for target: HTTPUpstream) -> Upstream {
        if let existing = upstreams[target], existing.usable { return existing }
        let upstream = Upstream(target: target, router: self)
        upstreams[target] = upstream
        provider.connect(target).whenComplete { result in
            switch result {
            case .success(let channel): upstream.connected(channel)
            case .failure(let error): upstream.failed("\(Self.describe(target)) could not be reached (\(error))")
            }
        }
        return upstream
    }

    private func copy(for target: HTTPUpstream) -> WiretapCopy? {
        if let existing = copies[target] {
            if existing.isLive { return existing }
            if existing.state == .cut { return nil }
        }
        let copy = WiretapCopy(target: target, provider: provider)
        copies[target] = copy
        return copy
    }

    private func readFailed(_ error: any Error) {
        guard let context else { return }
        let channel = context.channel
        switch error as? HTTP1Error {
        case .http2Preface? where exchanges.isEmpty:
            let buffered = reader.takeBuffered()
            leave(context)
            HTTP2Splitter.serve(downstream: channel, start: .priorKnowledge(buffered: buffered), agentPort: agentPort, provider: provider, logger: logger)
        case .notHTTP? where exchanges.isEmpty, .malformed? where exchanges.isEmpty && current == nil && inputClosed:
            // (A first message cut short by the client's end is passed on as it was sent.)
            let buffered = reader.takeBuffered()
            logger.info("a connection to port \(agentPort) does not speak HTTP/1.1; it goes to the port as a whole")
            leave(context)
            notHTTP(channel, buffered, inputClosed)
        default:
            logger.info("a connection to port \(agentPort) stopped speaking HTTP/1.1 (\(error)); it is reset")
            shutDown()
            AgentDataPlane.reset(channel)
        }
    }

    private func handOverH2C(_ head: HTTP1RequestHead, body: ByteBuffer) {
        guard let context else { return }
        let channel = context.channel
        let rest = reader.takeBuffered()
        leave(context)
        HTTP2Splitter.serve(
            downstream: channel,
            start: .upgrade(method: head.method, target: head.target, headers: head.fields.map { ($0.name, $0.value) }, body: body, rest: rest),
            agentPort: agentPort, provider: provider, logger: logger)
    }

    /// Steps aside: nothing of this router stays on the connection.
    private func leave(_ context: ChannelHandlerContext) {
        done = true
        shutDown()
        context.channel.setOption(.autoRead, value: false).whenFailure { _ in }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    // MARK: Answers, in order

    /// Writes what the first exchanges' upstreams answered, in request order.
    func pump() {
        guard let context, !done else { return }
        while let exchange = exchanges.first {
            if !exchange.parts.isEmpty {
                for part in exchange.parts {
                    switch part {
                    case .response(_, let wire): context.write(wrapOutboundOut(wire), promise: nil)
                    case .body(let bytes), .framing(let bytes): context.write(wrapOutboundOut(bytes), promise: nil)
                    case .request, .end: break
                    }
                }
                exchange.parts = []
                exchange.buffered = 0
                exchange.started = true
            }
            guard exchange.answered else {
                if let failure = exchange.upstream.failure {
                    fail(exchange, failure)
                    return
                }
                break
            }
            exchanges.removeFirst()
            if exchange.upstream.reader.leftHTTP, exchange.upstream.exchanges.isEmpty {
                context.flush()
                becomeRelay(with: exchange.upstream)
                return
            }
            if exchange.leavesHTTP {
                // The answer refused to switch protocols: what the client sent after is HTTP.
                do { handle(try reader.resume()) } catch { readFailed(error); return }
            }
            if !exchange.keepAlive || exchange.closesConnection {
                lastExchangeSeen = true
                closeAfterWrites(context.channel)
                return
            }
        }
        context.flush()
        if exchanges.isEmpty, inputClosed, current == nil {
            closeAfterWrites(context.channel)
            return
        }
        updateUpstreamReading()
        readMoreIfReady()
    }

    /// The exchange's upstream failed: a 502 when nothing of its answer went out yet, else a
    /// reset (the client must not take half an answer for a whole one).
    private func fail(_ exchange: Exchange, _ reason: String) {
        guard let context else { return }
        logger.info("a request to port \(agentPort) failed: \(reason)")
        let channel = context.channel
        if exchange.started {
            shutDown()
            AgentDataPlane.reset(channel)
            return
        }
        let body = "The traffic-agent could not get an answer: \(reason).\n"
        let head = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: head + body)), promise: nil)
        shutDown()
        closeAfterWrites(channel)
    }

    private func closeAfterWrites(_ channel: any Channel) {
        done = true
        shutDown()
        channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(promise: nil) }
    }

    /// A 101 (or a CONNECT's 2xx): the client and that upstream are joined byte for byte.
    private func becomeRelay(with upstream: Upstream) {
        guard let context, let upChannel = upstream.channel else { return }
        let downstream = context.channel
        done = true
        let fromClient = reader.takeBuffered()
        let fromUpstream = upstream.reader.takeBuffered()
        if fromUpstream.readableBytes > 0 { context.writeAndFlush(wrapOutboundOut(fromUpstream), promise: nil) }
        upstreams[upstream.target] = nil
        shutDown()
        if let handler = upstream.handler { upChannel.pipeline.syncOperations.removeHandler(handler, promise: nil) }
        if fromClient.readableBytes > 0 { upChannel.writeAndFlush(fromClient, promise: nil) }
        do {
            try upChannel.pipeline.syncOperations.addHandler(ByteStreamRelay.handler(partner: downstream))
            try downstream.pipeline.syncOperations.addHandler(ByteStreamRelay.handler(partner: upChannel))
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            upChannel.setOption(.autoRead, value: true).whenFailure { _ in }
            downstream.setOption(.autoRead, value: true).whenFailure { _ in }
            if inputClosed { upChannel.close(mode: .output, promise: nil) }
        } catch {
            downstream.close(promise: nil)
            upChannel.close(promise: nil)
        }
    }

    /// Upstreams read while the client can take more, and while their answers do not pile up
    /// behind an earlier one.
    private func updateUpstreamReading() {
        guard let context else { return }
        let writable = context.channel.isWritable
        let head = exchanges.first?.upstream
        for upstream in upstreams.values {
            upstream.setReading(writable && (upstream === head || upstream.bufferedAnswers < Self.answerBufferLimit))
        }
    }

    /// Closes every upstream and copy (the connection ended or was handed on).
    private func shutDown() {
        for upstream in upstreams.values { upstream.close() }
        for exchange in exchanges { exchange.upstream.close() }
        // An upstream and its unanswered exchanges refer to each other.
        for upstream in upstreams.values { upstream.exchanges.removeAll() }
        for exchange in exchanges { exchange.upstream.exchanges.removeAll() }
        exchanges = []
        upstreams = [:]
        for copy in copies.values { copy.finish() }
        copies = [:]
        current = nil
    }

    static func describe(_ target: HTTPUpstream) -> String {
        switch target {
        case .app(let port): "the app on port \(port)"
        case .client(_, let id, let host, let port): "the workstation of \(id) at \(host):\(port)"
        }
    }

    // MARK: Upstream events

    fileprivate func upstreamRead(_ upstream: Upstream, _ bytes: ByteBuffer) {
        do {
            upstream.deliver(try upstream.reader.feed(bytes))
        } catch {
            upstream.failed("\(Self.describe(upstream.target)) answered with no HTTP/1.1 (\(error))")
        }
        pump()
    }

    fileprivate func upstreamEnded(_ upstream: Upstream) {
        do {
            let parts = try upstream.reader.feedEOF()
            upstream.exchanges.first?.closesConnection = !parts.isEmpty
            upstream.deliver(parts)
        } catch {}
        if upstreams[upstream.target] === upstream { upstreams[upstream.target] = nil }
        if !upstream.exchanges.isEmpty, !upstream.reader.leftHTTP {
            upstream.failed("\(Self.describe(upstream.target)) closed the connection before answering")
        } else {
            upstream.close()
        }
        pump()
    }

    fileprivate func upstreamWritable() {
        readMoreIfReady()
    }
}

/// One request on its way: where it went and the answer parts read for it but not yet written.
private final class Exchange {
    let upstream: Upstream
    let keepAlive: Bool
    let leavesHTTP: Bool
    var parts: [HTTP1Part] = []
    var buffered = 0
    var started = false
    var answered = false
    /// The answer ended with its connection (or said it would): the client's connection ends too.
    var closesConnection = false
    var lastHead: HTTP1ResponseHead?

    init(upstream: Upstream, keepAlive: Bool, leavesHTTP: Bool) {
        self.upstream = upstream
        self.keepAlive = keepAlive
        self.leavesHTTP = leavesHTTP
    }
}

/// One connection to a destination, shared by the client connection's requests that go there.
private final class Upstream: @unchecked Sendable {
    let target: HTTPUpstream
    weak var router: HTTP1Router?
    var channel: (any Channel)?
    weak var handler: UpstreamHandler?
    var reader = HTTP1Reader(role: .response)
    /// Its requests not yet fully answered, in order.
    var exchanges: [Exchange] = []
    var failure: String?
    private var outbox: [ByteBuffer] = []
    private var outboxBytes = 0
    private var finishWhenOpen = false
    private var closed = false
    private var reading = true

    init(target: HTTPUpstream, router: HTTP1Router) {
        self.target = target
        self.router = router
    }

    /// New requests may use it.
    var usable: Bool { failure == nil && !closed && !reader.leftHTTP && !exchanges.contains(where: \.closesConnection) }

    var canTakeMore: Bool {
        if let channel { return channel.isWritable }
        return outboxBytes < HTTP1Router.answerBufferLimit
    }

    var bufferedAnswers: Int { exchanges.reduce(0) { $0 + $1.buffered } }

    func connected(_ channel: any Channel) {
        guard !closed else {
            channel.close(promise: nil)
            return
        }
        self.channel = channel
        let handler = UpstreamHandler(upstream: self)
        self.handler = handler
        do {
            try channel.pipeline.syncOperations.addHandler(handler)
        } catch {
            failed("\(HTTP1Router.describe(target)) could not be used (\(error))")
            return
        }
        for bytes in outbox { channel.write(bytes, promise: nil) }
        outbox = []
        outboxBytes = 0
        channel.flush()
        if finishWhenOpen { finish() }
        channel.setOption(.autoRead, value: reading).whenFailure { _ in }
        router?.readMoreIfReady()
    }

    func send(_ bytes: ByteBuffer) {
        guard !closed, failure == nil else { return }
        if let channel {
            channel.write(bytes, promise: nil)
        } else {
            outbox.append(bytes)
            outboxBytes += bytes.readableBytes
        }
    }

    /// The client half-closed: so does this connection, after the requests' bytes.
    func finish() {
        guard let channel else {
            finishWhenOpen = true
            return
        }
        channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(mode: .output).whenFailure { _ in } }
    }

    func setReading(_ on: Bool) {
        guard on != reading else { return }
        reading = on
        channel?.setOption(.autoRead, value: on).whenFailure { _ in }
        if on { channel?.read() }
    }

    /// Hands each answer part to the exchange it answers.
    func deliver(_ parts: [HTTP1Part]) {
        for part in parts {
            guard let exchange = exchanges.first else { return }
            exchange.parts.append(part)
            switch part {
            case .response(let head, let wire):
                exchange.lastHead = head
                exchange.buffered += wire.readableBytes
                if !head.isInterim, !head.keepAlive { exchange.closesConnection = true }
            case .body(let bytes), .framing(let bytes):
                exchange.buffered += bytes.readableBytes
            case .end:
                if exchange.lastHead?.isInterim != true {
                    exchange.answered = true
                    exchanges.removeFirst()
                }
            case .request:
                break
            }
        }
    }

    func failed(_ reason: String) {
        guard failure == nil else { return }
        failure = reason
        close()
        router?.pump()
    }

    func close() {
        guard !closed else { return }
        closed = true
        outbox = []
        channel?.close(promise: nil)
    }
}

private final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let upstream: Upstream
    private var ended = false

    init(upstream: Upstream) { self.upstream = upstream }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        upstream.router?.upstreamRead(upstream, unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { end() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { upstream.router?.upstreamWritable() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        upstream.failed("\(HTTP1Router.describe(upstream.target)) failed (\(error))")
        context.close(promise: nil)
    }

    private func end() {
        guard !ended else { return }
        ended = true
        upstream.router?.upstreamEnded(upstream)
    }
}
