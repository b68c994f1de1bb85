import NIOCore
import NIOHTTP1

typealias BodyBackPressure = NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark
typealias BodyProducer = NIOThrowingAsyncSequenceProducer<ByteBuffer, any Error, BodyBackPressure, BodyDemandDelegate>

/// A response head and the stream of its body. The body must be consumed (or dropped, which
/// closes the connection) before the connection serves another request.
struct HTTPResponseStart: Sendable {
    let head: HTTPResponseHead
    let body: BodyProducer
}

/// Runs one HTTP/1.1 exchange at a time on a keep-alive connection and streams the response
/// body to an async consumer with back-pressure: when the consumer falls behind, the handler
/// stops reading from the socket instead of buffering.
final class HTTPExchangeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case idle
        case awaitingHead(EventLoopPromise<HTTPResponseStart>)
        case streaming(BodyProducer.Source)
        case closed
    }

    private var state = State.idle
    private var context: ChannelHandlerContext?
    private var exchangeID = 0
    private var keepAlive = true
    private var readPaused = false
    private var readPending = false
    private var timeout: Scheduled<Void>?
    private var timeoutCoversBody = false
    private var timeoutError: (any Error)?
    private var onIdle: (@Sendable () -> Void)?
    private var selfBound: NIOLoopBound<HTTPExchangeHandler>?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        selfBound = NIOLoopBound(self, eventLoop: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(ChannelError.ioOnClosedChannel)
        self.context = nil
        selfBound = nil
    }

    /// Sends a request. `deadline` bounds the wait for the head, and for the whole body when
    /// `deadlineCoversBody`; `onIdle` runs once the response ended and the connection may be reused.
    func execute(
        head: HTTPRequestHead, body: ByteBuffer?, deadline: NIODeadline?, deadlineCoversBody: Bool,
        timeoutError: any Error, onIdle: @escaping @Sendable () -> Void, promise: EventLoopPromise<HTTPResponseStart>
    ) {
        guard case .idle = state, let context else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return
        }
        exchangeID += 1
        state = .awaitingHead(promise)
        keepAlive = head.isKeepAlive
        self.onIdle = onIdle
        self.timeoutCoversBody = deadlineCoversBody
        self.timeoutError = timeoutError
        if let deadline {
            let bound = selfBound!
            let id = exchangeID
            timeout = context.eventLoop.scheduleTask(deadline: deadline) { bound.value.timedOut(id: id) }
        }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .awaitingHead(let promise)):
            if head.status.code < 200 { return }  // 1xx informational: the real head follows
            keepAlive = keepAlive && head.isKeepAlive
            let delegate = BodyDemandDelegate(loop: context.eventLoop, handler: selfBound!, exchangeID: exchangeID)
            let sequence = BodyProducer.makeSequence(
                backPressureStrategy: BodyBackPressure(lowWatermark: 4, highWatermark: 16),
                finishOnDeinit: false, delegate: delegate)
            state = .streaming(sequence.source)
            if !timeoutCoversBody { cancelTimeout() }
            promise.succeed(HTTPResponseStart(head: head, body: sequence.sequence))
        case (.body(let buffer), .streaming(let source)):
            if source.yield(buffer) == .stopProducing { readPaused = true }
        case (.end, .streaming(let source)):
            source.finish()
            cancelTimeout()
            state = .idle
            resumeReading(id: exchangeID)
            let idle = onIdle
            onIdle = nil
            if keepAlive { idle?() } else { context.close(promise: nil) }
        default:
            // A response part we did not ask for: the connection is out of step; drop it.
            fail(KubeError.streamProtocolViolation("unexpected HTTP response part"))
            context.close(promise: nil)
        }
    }

    func read(context: ChannelHandlerContext) {
        if readPaused { readPending = true } else { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func resumeReading(id: Int) {
        guard id == exchangeID, readPaused else { return }
        readPaused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    /// The body's consumer stopped (cancelled or dropped the stream) before the end: the rest
    /// of the body would have to be read to reuse the connection, so close it instead.
    func consumerGone(id: Int) {
        guard id == exchangeID, case .streaming = state else { return }
        state = .closed
        onIdle = nil
        cancelTimeout()
        context?.close(promise: nil)
    }

    private func timedOut(id: Int) {
        guard id == exchangeID else { return }
        fail(timeoutError ?? ChannelError.connectTimeout(.seconds(0)))
        context?.close(promise: nil)
    }

    private func cancelTimeout() {
        timeout?.cancel()
        timeout = nil
    }

    private func fail(_ error: any Error) {
        cancelTimeout()
        onIdle = nil
        switch state {
        case .awaitingHead(let promise): promise.fail(error)
        case .streaming(let source): source.finish(error)
        case .idle, .closed: break
        }
        state = .closed
    }
}

/// Tells the handler when the body's consumer wants more or went away.
struct BodyDemandDelegate: NIOAsyncSequenceProducerDelegate {
    let loop: any EventLoop
    let handler: NIOLoopBound<HTTPExchangeHandler>
    let exchangeID: Int

    func produceMore() {
        let handler = handler, id = exchangeID
        loop.execute { handler.value.resumeReading(id: id) }
    }

    func didTerminate() {
        let handler = handler, id = exchangeID
        loop.execute { handler.value.consumerGone(id: id) }
    }
}
