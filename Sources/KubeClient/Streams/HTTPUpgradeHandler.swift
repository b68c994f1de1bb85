import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The client side of an HTTP/1.1 upgrade (WebSocket, or SPDY/3.1 for the port-forward
/// fallback), done on raw bytes so the pipeline can be switched to the new framing
/// synchronously, in the same read that carries the `101`: the API server often sends its first
/// frames (port headers, exec output and status, then a close) right behind the `101`, and none
/// of them may be lost to an asynchronous pipeline change.
final class HTTPUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// What to upgrade to.
    enum Kind: Sendable {
        /// `GET` with `Upgrade: websocket`; on success the pipeline gets WebSocket framing and a
        /// `WebSocketMessageHandler`. The subprotocol is the server's `Sec-WebSocket-Protocol`.
        case webSocket
        /// `POST` with `Upgrade: SPDY/3.1` (the request carries `X-Stream-Protocol-Version`);
        /// the pipeline is left on raw bytes for the caller's SPDY handler. The subprotocol is
        /// the server's `X-Stream-Protocol-Version`.
        case spdy
    }

    enum Result {
        /// Switched; `subprotocol` is the server's choice.
        case upgraded(subprotocol: String?)
        /// The server answered with a normal response (an error, usually a Status).
        case rejected(HTTPResponseHead, ByteBuffer)
    }

    private let request: HTTPRequestHead
    private let kind: Kind
    private let maxFrameSize: Int
    private let onUpgrade: (any Channel, String?) throws -> Void
    private let promise: EventLoopPromise<Result>
    private var received = ByteBuffer()
    private var rejectedHead: HTTPResponseHead?
    private var expectedBodyLength: Int?
    private var done = false

    init(
        request: HTTPRequestHead, kind: Kind = .webSocket, maxFrameSize: Int = 1 << 24,
        promise: EventLoopPromise<Result>, onUpgrade: @escaping (any Channel, String?) throws -> Void
    ) {
        self.request = request
        self.kind = kind
        self.maxFrameSize = maxFrameSize
        self.promise = promise
        self.onUpgrade = onUpgrade
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    private func sendRequest(context: ChannelHandlerContext) {
        var text: String
        switch kind {
        case .webSocket:
            var key = [UInt8](repeating: 0, count: 16)
            for index in key.indices { key[index] = .random(in: 0...255) }
            text = "GET \(request.uri) HTTP/1.1\r\n"
            for header in request.headers { text += "\(header.name): \(header.value)\r\n" }
            text += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            text += "Sec-WebSocket-Key: \(Data(key).base64EncodedString())\r\n\r\n"
        case .spdy:
            text = "POST \(request.uri) HTTP/1.1\r\n"
            for header in request.headers where header.name.lowercased() != "content-length" {
                text += "\(header.name): \(header.value)\r\n"
            }
            text += "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nContent-Length: 0\r\n\r\n"
        }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        guard !done else { return context.fireChannelRead(data) }
        received.writeBuffer(&chunk)
        if rejectedHead != nil { return finishRejectedIfComplete() }
        guard let end = received.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if received.readableBytes > 65536 { fail(context: context, KubeError.streamProtocolViolation("the upgrade response head is too large")) }
            return
        }
        let headText = received.readString(length: end.upperBound - received.readerIndex) ?? ""
        guard let head = Self.parseHead(headText) else {
            return fail(context: context, KubeError.streamProtocolViolation("the upgrade response is not HTTP"))
        }
        guard head.status == .switchingProtocols else {
            rejectedHead = head
            expectedBodyLength = head.headers.first(name: "Content-Length").flatMap { Int($0) }
            return finishRejectedIfComplete()
        }
        let subprotocol: String?
        do {
            let sync = context.pipeline.syncOperations
            switch kind {
            case .webSocket:
                subprotocol = head.headers.first(name: "Sec-WebSocket-Protocol")
                try sync.addHandler(WebSocketFrameWriter())
                try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)))
                try sync.addHandler(WebSocketMessageHandler())
            case .spdy:
                subprotocol = head.headers.first(name: "X-Stream-Protocol-Version")
            }
            try onUpgrade(context.channel, subprotocol)
        } catch {
            return fail(context: context, error)
        }
        done = true
        promise.succeed(.upgraded(subprotocol: subprotocol))
        let rest = received
        received = ByteBuffer()
        if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if rejectedHead != nil { expectedBodyLength = received.readableBytes }
        finishRejectedIfComplete()
        if !done {
            done = true
            promise.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error)
    }

    private func finishRejectedIfComplete() {
        guard !done, let head = rejectedHead, let length = expectedBodyLength, received.readableBytes >= length else { return }
        done = true
        promise.succeed(.rejected(head, received.getSlice(at: received.readerIndex, length: length) ?? ByteBuffer()))
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        guard !done else { return context.fireErrorCaught(error) }
        done = true
        promise.fail(error)
        context.close(promise: nil)
    }

    static func parseHead(_ text: String) -> HTTPResponseHead? {
        var lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard !lines.isEmpty else { return nil }
        let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let code = Int(statusLine[1]) else { return nil }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return HTTPResponseHead(version: .http1_1, status: .init(statusCode: code), headers: headers)
    }
}
