import NIOCore
import NIOHPACK
import NIOHTTP2

/// Answers one HTTP/2 stream once its request has ended: gRPC requests (`content-type:
/// application/grpc…`) by `GRPCEcho`, others with `EchoDescription` as over HTTP/1.1.
final class HTTP2Echo: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload
    private var headers = HPACKHeaders()
    private var body = ByteBuffer()

    static let initializer: NIOChannelInitializer = { stream in
        stream.eventLoop.makeCompletedFuture { try stream.pipeline.syncOperations.addHandler(HTTP2Echo()) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let ended: Bool
        switch unwrapInboundIn(data) {
        case .headers(let payload):
            if headers.isEmpty { headers = payload.headers }
            ended = payload.endStream
        case .data(let payload):
            if case .byteBuffer(var bytes) = payload.data { body.writeBuffer(&bytes) }
            ended = payload.endStream
        default:
            ended = false
        }
        guard ended else { return }
        let frames: [HTTP2Frame.FramePayload]
        if headers.first(name: "content-type")?.hasPrefix("application/grpc") ?? false {
            frames = GRPCEcho.answer(path: headers.first(name: ":path") ?? "", headers: headers, body: body)
        } else {
            frames = answer()
        }
        for frame in frames { context.write(wrapOutboundOut(frame), promise: nil) }
        context.flush()
    }

    private func answer() -> [HTTP2Frame.FramePayload] {
        var fields = headers.filter { !$0.name.hasPrefix(":") }.map { (name: $0.name, value: $0.value) }
        if let authority = headers.first(name: ":authority"), !fields.contains(where: { $0.name == "host" }) {
            fields.insert((name: "host", value: authority), at: 0)
        }
        let json = EchoDescription.json(
            method: headers.first(name: ":method") ?? "GET", target: headers.first(name: ":path") ?? "/", headers: fields, body: body
        )
        let head = HPACKHeaders([(":status", "200"), ("content-type", "application/json"), ("content-length", String(json.readableBytes))])
        return [.headers(.init(headers: head)), .data(.init(data: .byteBuffer(json), endStream: true))]
    }
}
