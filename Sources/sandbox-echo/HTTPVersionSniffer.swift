import HTTP2Cleartext
import NIOCore
import NIOHTTP1

/// The first handler of an HTTP connection: its first bytes say whether the client speaks
/// HTTP/2 with prior knowledge (the preface) or HTTP/1.1; the pipeline for that is put in its
/// place and what was read so far is handed on.
final class HTTPVersionSniffer: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var received = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        let operations = context.pipeline.syncOperations
        do {
            switch HTTP2Preface.classify(received) {
            case .undecided:
                return
            case .http2:
                let received = self.received
                operations.removeHandler(context: context, promise: nil)
                try H2CConnection.serve(channel: context.channel, upgrade: nil, received: received, inboundStreamInitializer: HTTP2Echo.initializer)
            case .notHTTP2:
                try HTTP1Echo.configure(operations)
                context.fireChannelRead(NIOAny(received))
                operations.removeHandler(context: context, promise: nil)
            }
        } catch {
            context.close(promise: nil)
        }
    }
}
