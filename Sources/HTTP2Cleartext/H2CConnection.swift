import NIOCore
import NIOHTTP2

/// HTTP/2 cleartext on a connected channel, either side, as the agent's splitter and the echo
/// app both speak it. Call on the channel's event loop.
public enum H2CConnection {
    /// Serves HTTP/2 on `channel`: `received` is what was read so far (with prior knowledge,
    /// starting with the preface); with `upgrade`, the request read whole and `received` what
    /// followed it. The upgrade is answered with 101 here; each stream (the upgrade request is
    /// stream 1) gets a child channel from `inboundStreamInitializer`. Reading starts (autoRead on).
    @discardableResult
    public static func serve(
        channel: any Channel, upgrade: H2CUpgradeRequest?, received: ByteBuffer,
        inboundStreamInitializer: @escaping NIOChannelInitializer
    ) throws -> NIOHTTP2Handler.StreamMultiplexer {
        channel.eventLoop.preconditionInEventLoop()
        let operations = channel.pipeline.syncOperations
        if let upgrade {
            let prelude = try upgrade.prelude(allocator: channel.allocator)
            // Written before the HTTP/2 handler exists, so it precedes the server's SETTINGS.
            channel.write(NIOAny(IOData.byteBuffer(ByteBuffer(string: H2CUpgradeRequest.switchingProtocols))), promise: nil)
            try operations.addHandler(FirstSettingsAckFilterHandler())
            try operations.addHandler(H2CUpgradeSplice(prelude: prelude))
        }
        let multiplexer = try operations.configureHTTP2Pipeline(
            mode: .server, connectionConfiguration: .init(), streamConfiguration: .init(),
            inboundStreamInitializer: inboundStreamInitializer
        )
        try operations.addHandler(CloseOnError())
        // Reading on first: streams opened by the bytes below read their frames at once.
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        if received.readableBytes > 0 {
            operations.fireChannelRead(NIOAny(received))
            operations.fireChannelReadComplete()
        }
        return multiplexer
    }

    /// Speaks HTTP/2 with prior knowledge as the client on `channel` (its own streams only:
    /// pushed streams are refused). Reading starts (autoRead on).
    public static func client(channel: any Channel) throws -> NIOHTTP2Handler.StreamMultiplexer {
        channel.eventLoop.preconditionInEventLoop()
        var settings = NIOHTTP2Handler.ConnectionConfiguration()
        settings.initialSettings = nioDefaultSettings + [HTTP2Setting(parameter: .enablePush, value: 0)]
        let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
            mode: .client, connectionConfiguration: settings, streamConfiguration: .init(),
            inboundStreamInitializer: { $0.close() }
        )
        try channel.pipeline.syncOperations.addHandler(CloseOnError())
        channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        return multiplexer
    }
}

/// A peer that is not speaking HTTP/2 at all is hung up on. (Other errors NIOHTTP2 reports are
/// a stream's, answered with RST_STREAM, or the connection's, answered with GOAWAY: the peer
/// closes then.)
final class CloseOnError: ChannelInboundHandler, Sendable {
    typealias InboundIn = Any
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOHTTP2Errors.BadClientMagic || error is IOError { context.close(promise: nil) }
    }
}
