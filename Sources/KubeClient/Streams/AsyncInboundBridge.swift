import NIOCore

typealias InboundProducer<Element: Sendable> = NIOThrowingAsyncSequenceProducer<
    Element, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, InboundDemandDelegate<Element>>

/// The last handler of a stream's pipeline: hands inbound messages to one async consumer and
/// stops reading from the socket while the consumer is behind (at most `highWatermark`
/// messages wait). Outbound writes pass through untouched. The consumer going away closes the
/// channel.
final class AsyncInboundBridge<Element: Sendable>: ChannelDuplexHandler {
    typealias InboundIn = Element
    typealias OutboundIn = Element
    typealias OutboundOut = Element

    private let source: InboundProducer<Element>.Source
    private var paused = false
    private var readPending = false
    private var finished = false
    private weak var context: ChannelHandlerContext?

    /// Makes the bridge and the sequence its consumer reads; call on the channel's event loop.
    static func make(
        eventLoop: any EventLoop, lowWatermark: Int = 4, highWatermark: Int = 16
    ) -> (AsyncInboundBridge, InboundProducer<Element>) {
        let box = NIOLoopBound(InboundDemandDelegate<Element>.WeakBridge(), eventLoop: eventLoop)
        let delegate = InboundDemandDelegate<Element>(eventLoop: eventLoop, box: box)
        let new = InboundProducer<Element>.makeSequence(
            backPressureStrategy: .init(lowWatermark: lowWatermark, highWatermark: highWatermark),
            finishOnDeinit: false, delegate: delegate)
        let bridge = AsyncInboundBridge(source: new.source)
        box.value.bridge = bridge
        return (bridge, new.sequence)
    }

    private init(source: InboundProducer<Element>.Source) {
        self.source = source
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        if source.yield(unwrapInboundIn(data)) == .stopProducing { paused = true }
    }

    func read(context: ChannelHandlerContext) {
        if paused { readPending = true } else { context.read() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(nil)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(nil)
        self.context = nil
    }

    func resume() {
        guard paused else { return }
        paused = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }

    func consumerGone() {
        finished = true
        context?.close(promise: nil)
    }

    private func finish(_ error: (any Error)?) {
        guard !finished else { return }
        finished = true
        if let error { source.finish(error) } else { source.finish() }
    }
}

/// Forwards the consumer's demand to the bridge on its event loop.
struct InboundDemandDelegate<Element: Sendable>: NIOAsyncSequenceProducerDelegate {
    /// Weak, so a bridge whose channel is gone is not kept alive by a forgotten sequence.
    final class WeakBridge {
        weak var bridge: AsyncInboundBridge<Element>?
    }

    let eventLoop: any EventLoop
    let box: NIOLoopBound<WeakBridge>

    func produceMore() {
        let box = box
        eventLoop.execute { box.value.bridge?.resume() }
    }

    func didTerminate() {
        let box = box
        eventLoop.execute { box.value.bridge?.consumerGone() }
    }
}
