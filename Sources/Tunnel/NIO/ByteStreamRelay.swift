import NIOCore

/// Joins two byte-stream channels so that what one reads the other writes, both ways, with
/// back-pressure: when one side cannot take more (it turned unwritable), the other stops
/// reading until it drains. Closing either side closes both; a half-close is passed on.
///
/// The user daemon uses it to carry the root daemon's tunnel (a Unix socket) over a
/// port-forward to the traffic-manager, so the root daemon never holds kube credentials. The two
/// channels may live on different event loops: each handler touches only its own channel and
/// reaches the partner through the thread-safe `Channel` API.
public enum ByteStreamRelay {
    /// Adds the relay handlers to both pipelines (on their own event loops). Neither channel may
    /// have read anything yet (bytes read before its handler is there are lost): add
    /// `handler(partner:)` in a channel initializer, or, for an accepted channel whose partner
    /// comes later, a `HeldInput` there and `start(_:partner:)` once the partner exists.
    public static func join(_ first: any Channel, _ second: any Channel) -> EventLoopFuture<Void> {
        let added = first.eventLoop.submit {
            try first.pipeline.syncOperations.addHandler(RelayHandler(partner: second))
        }
        let addedSecond = second.eventLoop.submit {
            try second.pipeline.syncOperations.addHandler(RelayHandler(partner: first))
        }
        return added.and(addedSecond).map { _ in () }
    }

    /// Relays an accepted channel (`autoRead` off, a `HeldInput` first in its pipeline) to its
    /// partner once the partner exists: what it held goes first, then it reads.
    public static func start(_ accepted: any Channel, partner: any Channel) -> EventLoopFuture<Void> {
        accepted.eventLoop.submit {
            try accepted.pipeline.syncOperations.addHandler(RelayHandler(partner: partner))
            HeldInput.release(accepted)
            try accepted.syncOptions?.setOption(.autoRead, value: true)
            accepted.read()
        }
    }

    /// The handler that sends what its channel reads to `partner`; add it to one channel's
    /// pipeline yourself when it must be there before the first byte arrives (a port-forward's
    /// `configure`), and the partner's handler once the partner exists.
    public static func handler(partner: any Channel) -> any ChannelHandler & Sendable {
        RelayHandler(partner: partner)
    }
}

/// One direction's end: forwards reads to the partner and watches its own writability to
/// pause or resume the partner's reading.
final class RelayHandler: ChannelDuplexHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let partner: any Channel

    init(partner: any Channel) {
        self.partner = partner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.write(unwrapInboundIn(data), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // This side is full: stop the partner from reading more for us, until it drains.
        partner.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // The FIN goes after everything read before it: the last read may not be flushed
            // yet, and closing the output fails writes still pending. An empty write completes
            // once every earlier one has.
            let partner = partner
            partner.writeAndFlush(ByteBuffer()).whenComplete { _ in
                partner.close(mode: .output).whenFailure { _ in partner.close(promise: nil) }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
