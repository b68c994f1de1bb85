import NIOCore

/// Holds what a new connection delivers until its route is decided. `autoRead` off is not
/// enough: when the peer's FIN is already there (`echo hi | nc`), NIO reads the remaining bytes
/// and the half-close into the pipeline at once, and with no handler to take them they were
/// lost (the app never heard of them, and the connection hung). Added first, when the
/// connection is accepted; `release()` (on the event loop) replays what it held to the
/// handlers added after it, in order, and lets everything pass from then on.
final class HeldInput: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private enum Held {
        case read(NIOAny)
        case readComplete
        case inputClosed
    }

    private var held: [Held] = []
    private var released = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if released { context.fireChannelRead(data) } else { held.append(.read(data)) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if released { context.fireChannelReadComplete() } else { held.append(.readComplete) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !released, case ChannelEvent.inputClosed = event {
            held.append(.inputClosed)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// Passes on what was held, then steps aside.
    func release() {
        guard !released, let context else { return }
        released = true
        let events = held
        held = []
        for event in events {
            switch event {
            case .read(let data): context.fireChannelRead(data)
            case .readComplete: context.fireChannelReadComplete()
            case .inputClosed: context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The channel's HeldInput, released (on the channel's event loop).
    static func release(_ channel: any Channel) {
        channel.eventLoop.preconditionInEventLoop()
        (try? channel.pipeline.syncOperations.handler(type: HeldInput.self))?.release()
    }
}
