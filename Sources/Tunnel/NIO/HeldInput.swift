import NIOCore

/// Holds what an accepted connection delivers until the handler that takes its bytes is added
/// (a relay partner still being dialled, an agent's route being decided). `autoRead` off is not
/// enough: when the peer's FIN is already there (`echo hi | nc`), NIO reads the remaining bytes
/// and the end of input into the pipeline at once, and with no handler to take them they were
/// lost. Added first, in the child channel initializer; `release()` (on the event loop) replays
/// what it held to the handlers added after it, in order, and lets everything pass from then on.
public final class HeldInput: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer

    private enum Held {
        case read(NIOAny)
        case readComplete
        case inputClosed
        case inactive
    }

    private var held: [Held] = []
    private var released = false
    private var context: ChannelHandlerContext?

    public init() {}

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    public func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if released { context.fireChannelRead(data) } else { held.append(.read(data)) }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        if released { context.fireChannelReadComplete() } else { held.append(.readComplete) }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !released, case ChannelEvent.inputClosed = event {
            held.append(.inputClosed)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// A connection without half-closure ends at EOF: its end is held too, after its bytes.
    public func channelInactive(context: ChannelHandlerContext) {
        if released { context.fireChannelInactive() } else { held.append(.inactive) }
    }

    /// Passes on what was held, then steps aside.
    public func release() {
        guard !released, let context else { return }
        released = true
        let events = held
        held = []
        for event in events {
            switch event {
            case .read(let data): context.fireChannelRead(data)
            case .readComplete: context.fireChannelReadComplete()
            case .inputClosed: context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            case .inactive: context.fireChannelInactive()
            }
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The channel's HeldInput, released (on the channel's event loop).
    public static func release(_ channel: any Channel) {
        channel.eventLoop.preconditionInEventLoop()
        (try? channel.pipeline.syncOperations.handler(type: HeldInput.self))?.release()
    }
}
