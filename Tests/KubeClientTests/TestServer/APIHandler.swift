import Foundation
import KubeClient
import NIOCore
import NIOHTTP1

/// The test server's HTTP handler: collects a request, asks `TestAPIServer.handle` for the
/// reply, and writes it (plain, or streamed for watches and followed logs).
final class APIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let box: TestAPIServer.ServerBox
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var watching = false

    init(box: TestAPIServer.ServerBox) {
        self.box = box
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head, let server = box.server else { return }
            reply(context: context, head: head, server.handle(head, body: String(buffer: body)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if watching { box.server?.state.withLock { $0.closedWatches += 1 } }
        context.fireChannelInactive()
    }

    private func reply(context: ChannelHandlerContext, head: HTTPRequestHead, _ reply: TestAPIServer.Reply) {
        switch reply {
        case .never:
            return
        case .json(let code, let value):
            let data = (try? value.data()) ?? Data()
            send(context: context, head: head, code: code, contentType: "application/json", body: ByteBuffer(bytes: data))
        case .text(let code, let text, let contentType):
            send(context: context, head: head, code: code, contentType: contentType, body: ByteBuffer(string: text))
        case .logFollow(let lines):
            writeStreamHead(context: context, contentType: "text/plain")
            for line in lines { writeChunk(context: context, line + "\n") }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .watch(let steps):
            if case .httpGone = steps.first {
                var status = Status(status: "Failure", message: "too old resource version", reason: "Expired", code: 410)
                status.kind = "Status"
                let data = (try? JSONValue(encoding: status).data()) ?? Data()
                return send(context: context, head: head, code: 410, contentType: "application/json", body: ByteBuffer(bytes: data))
            }
            watching = true
            writeStreamHead(context: context, contentType: "application/json")
            for step in steps {
                switch step {
                case .event(let type, let object):
                    let line = (try? JSONValue.object(["type": .string(type), "object": object]).data()) ?? Data()
                    writeChunk(context: context, String(decoding: line, as: UTF8.self) + "\n")
                case .raw(let text):
                    writeChunk(context: context, text)
                case .errorGone:
                    let line = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (200)","reason":"Expired","code":410}}"#
                    writeChunk(context: context, line + "\n")
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                    return
                case .httpGone, .hold:
                    return
                case .drop:
                    context.close(promise: nil)
                    return
                case .end:
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                    return
                }
            }
        }
    }

    private func send(context: ChannelHandlerContext, head: HTTPRequestHead, code: Int, contentType: String, body: ByteBuffer) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: code), headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func writeStreamHead(context: ChannelHandlerContext, contentType: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Transfer-Encoding", value: "chunked")
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
    }

    private func writeChunk(context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
    }
}
