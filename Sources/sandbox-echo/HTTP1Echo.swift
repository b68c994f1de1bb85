import HTTP2Cleartext
import NIOCore
import NIOHTTP1

/// Answers each HTTP/1.1 request with `EchoDescription`; a request asking for h2c switches the
/// connection to HTTP/2 and is answered there, as stream 1.
final class HTTP1Echo: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    /// The HTTP/1.1 handlers before this one, removed on an upgrade.
    private let http1Handlers: [any RemovableChannelHandler]

    init(http1Handlers: [any RemovableChannelHandler]) { self.http1Handlers = http1Handlers }

    /// NIO's HTTP/1.1 server handlers and this one, last in the pipeline.
    static func configure(_ operations: ChannelPipeline.SynchronousOperations) throws {
        let handlers: [any RemovableChannelHandler] = [
            HTTPResponseEncoder(), ByteToMessageHandler(HTTPRequestDecoder()), HTTPServerPipelineHandler(), HTTPServerProtocolErrorHandler(),
        ]
        for handler in handlers { try operations.addHandler(handler) }
        try operations.addHandler(HTTP1Echo(http1Handlers: handlers))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            self.head = nil
            let fields = head.headers.map { (name: $0.name, value: $0.value) }
            if H2CUpgradeRequest.asksForH2C(headers: fields) {
                upgrade(context: context, request: H2CUpgradeRequest(method: head.method.rawValue, target: head.uri, headers: fields, body: body))
            } else {
                answer(context: context, head: head, fields: fields)
            }
        }
    }

    private func answer(context: ChannelHandlerContext, head: HTTPRequestHead, fields: [(name: String, value: String)]) {
        let json = EchoDescription.json(method: head.method.rawValue, target: head.uri, headers: fields, body: body)
        var responseHeaders = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(json.readableBytes))])
        if !head.isKeepAlive { responseHeaders.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: responseHeaders))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(json))), promise: nil)
        let keepAlive = head.isKeepAlive
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    /// The HTTP/1.1 handlers leave; HTTP/2 answers 101 and serves the request as stream 1. (A
    /// client sends nothing more until it reads the 101, so nothing is lost in between.)
    private func upgrade(context: ChannelHandlerContext, request: H2CUpgradeRequest) {
        let channel = context.channel
        let operations = context.pipeline.syncOperations
        for handler in http1Handlers { operations.removeHandler(handler, promise: nil) }
        operations.removeHandler(context: context, promise: nil)
        channel.eventLoop.execute {
            do {
                try H2CConnection.serve(channel: channel, upgrade: request, received: ByteBuffer(), inboundStreamInitializer: HTTP2Echo.initializer)
            } catch let error as H2CUpgradeError {
                channel.writeAndFlush(ByteBuffer(string: error.badRequest)).whenComplete { _ in channel.close(promise: nil) }
            } catch {
                channel.close(promise: nil)
            }
        }
    }
}
