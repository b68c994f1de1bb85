import NIOCore
import NIOPosix

/// The dialer's end of a UDP flow: one unconnected UDP socket per stream that sends each
/// received datagram to the destination and returns the destination's datagrams, one DATAGRAM
/// frame each (boundaries preserved). The flow ends when the stream does.
final class TunnelDatagramBridge: ChannelInboundHandler, TunnelStreamDelegate {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private let stream: TunnelStream
    private let destination: SocketAddress
    private var context: ChannelHandlerContext?

    init(stream: TunnelStream, destination: SocketAddress) {
        self.stream = stream
        self.destination = destination
    }

    /// Binds a UDP socket of the destination's family and accepts the stream, or rejects it.
    static func dial(_ stream: TunnelStream, to destination: SocketAddress) {
        let loop = stream.eventLoop
        let bound = NIOLoopBound(stream, eventLoop: loop)
        let any = destination.protocol == .inet6 ? "::" : "0.0.0.0"
        DatagramBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TunnelDatagramBridge(stream: bound.value, destination: destination))
                }
            }
            .bind(host: any, port: 0)
            .whenFailure { error in
                bound.value.reject(.internalError, message: "no UDP socket: \(error)")
            }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        stream.delegate = self
        if context.channel.isActive { start() }
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    private func start() {
        guard (try? stream.accept()) != nil else {
            context?.close(promise: nil)
            return
        }
        stream.resumeReading()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == destination else { return }  // only the flow's peer answers
        _ = try? stream.writeDatagram(envelope.data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream.reset(.connectionReset)
        context.fireChannelInactive()
    }

    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: destination, data: bytes)), promise: nil)
    }

    func tunnelStreamReadComplete(_ stream: TunnelStream) {
        context?.flush()
    }

    func tunnelStreamDidReceiveFIN(_ stream: TunnelStream) {
        stream.finish()
    }

    func tunnelStreamDidClose(_ stream: TunnelStream) {
        context?.close(promise: nil)
    }
}
