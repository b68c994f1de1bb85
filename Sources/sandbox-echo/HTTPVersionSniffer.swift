import HTTP2Cleartext
import NIOCore
import NIOHTTP1

/// The first handler of an HTTP connection: its first bytes say whether the client speaks
/// HTTP/2 with prior knowledge (the preface) or HTTP/1.1; the pipeline for that is added after
/// it and what was read so far is handed on.
final class HTTPVersionSniffer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    private var received = ByteBuffer()
    /// Decided: everything passes on. (It stays in the pipeline: removing it from inside its
    /// own read lost the connection's later reads.)
    private var decided = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        let operations = context.pipeline.syncOperations
        do {
            switch HTTP2Preface.classify(received) {
            case .undecided:
                return
            case .http2:
                decided = true
                try H2CConnection.serve(channel: context.channel, upgrade: nil, received: received, inboundStreamInitializer: HTTP2Echo.initializer)
            case .notHTTP2:
                decided = true
                try HTTP1Echo.configure(operations)
                context.fireChannelRead(NIOAny(received))
            }
        } catch {
            context.close(promise: nil)
        }
    }
}
