import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Sits in every connection's HTTP/1.1 pipeline, just before the async request loop, and takes
/// the WebSocket upgrades of the kubelet's streaming endpoints (`pods/NAME/exec`, `…/portforward`,
/// `…/attach`) out of the request stream. Everything else passes through untouched (one header
/// look-up per request head), so plain requests cost what they did before.
///
/// An upgrade request is decided by the API layer (`decide`, async: it looks the pod up and may
/// start the process). The answer is applied in one event-loop turn: either a normal error
/// response on the still-HTTP pipeline, or the HTTP handlers are removed, the `101` is written
/// as raw bytes and the WebSocket codec and the session take over. The client sends nothing
/// before it has read the `101`, so no byte can fall between the two protocols.
final class StreamUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Largest WebSocket frame accepted from a client (clients send whole messages as one frame).
    static let maxFrameSize = 1 << 24

    private let decide: @Sendable (APIRequest, any Channel) async -> StreamAnswer
    /// The upgrade request being read (head, body) while its parts arrive.
    private var pending: (head: HTTPRequestHead, body: [UInt8])?
    private var deciding = false

    init(decide: @escaping @Sendable (APIRequest, any Channel) async -> StreamAnswer) {
        self.decide = decide
    }

    /// Whether a request head asks for a WebSocket on one of the streaming subresources.
    static func isStreamUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard let upgrade = head.headers.first(name: "upgrade"), upgrade.lowercased().contains("websocket") else {
            return false
        }
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return path.hasSuffix("/exec") || path.hasSuffix("/portforward") || path.hasSuffix("/attach")
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if deciding { return }  // nothing may follow an upgrade request before its answer
        switch part {
        case .head(let head) where pending == nil && Self.isStreamUpgrade(head):
            pending = (head, [])
        case .body(let buffer) where pending != nil:
            pending?.body.append(contentsOf: buffer.readableBytesView)
        case .end where pending != nil:
            let (head, body) = pending!
            pending = nil
            deciding = true
            let request = APIRequest(method: head.method, uri: head.uri, headers: head.headers, body: body, user: "")
            let channel = context.channel
            let decide = self.decide
            let promise = context.eventLoop.makePromise(of: StreamAnswer.self)
            promise.completeWithTask { await decide(request, channel) }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenSuccess { answer in
                let (handler, context) = loopBound.value
                handler.apply(answer, head: head, context: context)
            }
        default:
            context.fireChannelRead(data)
        }
    }

    private func apply(_ answer: StreamAnswer, head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard context.channel.isActive else { answer.abandon(); return }
        switch answer {
        case .reject(let status, let body):
            // The connection is closed after the answer: the client retries (SPDY) on a new one.
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Cache-Control", value: "no-cache, private")
            headers.add(name: "Connection", value: "close")
            let responseHead = HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        case .accept(let subprotocol, let session):
            do {
                try switchProtocols(context: context, head: head, subprotocol: subprotocol, session: session)
            } catch {
                session.abandon()
                context.close(promise: nil)
            }
        }
    }

    private func switchProtocols(
        context: ChannelHandlerContext, head: HTTPRequestHead, subprotocol: String?, session: StreamSession
    ) throws {
        let pipeline = context.pipeline.syncOperations
        // The HTTP handlers configureHTTPServerPipeline added; the client sends no byte before the 101.
        let httpHandlers = [
            try? pipeline.context(handlerType: HTTPServerProtocolErrorHandler.self),
            try? pipeline.context(handlerType: HTTPServerPipelineHandler.self),
            try? pipeline.context(handlerType: NIOHTTPResponseHeadersValidator.self),
            try? pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self),
            try? pipeline.context(handlerType: HTTPResponseEncoder.self),
        ]
        for handler in httpHandlers.compactMap({ $0 }) {
            pipeline.removeHandler(context: handler, promise: nil)
        }
        var text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Accept: \(Self.acceptValue(key: head.headers.first(name: "sec-websocket-key") ?? ""))\r\n"
        if let subprotocol, !subprotocol.isEmpty { text += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        text += "\r\n"
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)), promise: nil)
        // Inbound: decoder, then the session; the session's writes go back through the encoder.
        let decoder = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: Self.maxFrameSize))
        // One at a time, in order: the session starts writing as soon as it is added.
        let encoder = WebSocketFrameEncoder()
        try pipeline.addHandler(decoder, position: .after(self))
        try pipeline.addHandler(encoder, position: .after(decoder))
        try pipeline.addHandler(session.makeHandler(channel: context.channel), position: .after(encoder))
        pipeline.removeHandler(context: context, promise: nil)
    }

    /// `Sec-WebSocket-Accept`: base64(SHA-1(key + the RFC 6455 GUID)).
    static func acceptValue(key: String) -> String {
        let digest = Insecure.SHA1.hash(data: Data((key.trimmingCharacters(in: .whitespaces) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        return Data(digest).base64EncodedString()
    }
}
