import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 server (NIO's own codec, not the agent's reader) that answers every request with
/// "<name>: <method> <target> <body bytes>" and records what it was asked; it answers
/// `Expect: 100-continue` with a 100 first. `readsNothing`: it accepts and never reads (a
/// workstation that stopped reading).
final class HTTPTestServer: Sendable {
    let name: String
    let channel: any Channel
    let record = Record()

    final class Record: Sendable {
        let seen = Mutex<[String]>([])
    }

    var port: Int { channel.localAddress!.port! }
    var requests: [String] { record.seen.withLock { $0 } }

    init(group: any EventLoopGroup, name: String, readsNothing: Bool = false) async throws {
        self.name = name
        let record = record
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: !readsNothing)
            .childChannelOption(.socketOption(.init(rawValue: SO_RCVBUF)), value: readsNothing ? 4096 : 131_072)
            .childChannelInitializer { channel in
                guard !readsNothing else { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Responder(name: name, record: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }

    final class Responder: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let name: String
        let record: Record
        let state = Mutex<(head: HTTPRequestHead?, bytes: Int)>((nil, 0))

        init(name: String, record: Record) {
            self.name = name
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                state.withLock { $0 = (head, 0) }
                if head.headers["expect"].first?.lowercased() == "100-continue" {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
                }
            case .body(let bytes):
                state.withLock { $0.bytes += bytes.readableBytes }
            case .end:
                let (head, bytes) = state.withLock { $0 }
                guard let head else { return }
                let line = "\(name): \(head.method.rawValue) \(head.uri) \(bytes)"
                record.seen.withLock { $0.append(line) }
                let body = ByteBuffer(string: line + "\n")
                var headers = HTTPHeaders([("Content-Length", "\(body.readableBytes)")])
                if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

/// The answers' bodies in the order a client received them ("alice: GET /x 0", ...).
func answerLines(_ text: String) -> [String] {
    text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        .filter { $0.contains(": ") && !$0.hasPrefix("HTTP/") && !$0.lowercased().hasPrefix("content-") && !$0.lowercased().hasPrefix("connection") }
}

func get(_ path: String, user: String? = nil, close: Bool = false) -> String {
    var text = "GET \(path) HTTP/1.1\r\nHost: echo\r\n"
    if let user { text += "X-User: \(user)\r\n" }
    if close { text += "Connection: close\r\n" }
    return text + "\r\n"
}

func chunkedPost(_ path: String, user: String? = nil, chunks: [String]) -> String {
    var text = "POST \(path) HTTP/1.1\r\nHost: echo\r\nTransfer-Encoding: chunked\r\n"
    if let user { text += "X-User: \(user)\r\n" }
    text += "\r\n"
    for chunk in chunks { text += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
    return text + "0\r\nX-Trailer: done\r\n\r\n"
}

/// A server that answers the first request head with `101 Switching Protocols`, then echoes
/// every byte (what follows the head, and all after).
final class UpgradingEcho: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let head = Mutex<[UInt8]?>([])

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).readableBytesView)
        let echo: [UInt8]? = head.withLock { state in
            guard var seen = state else { return bytes }
            seen += bytes
            guard let end = seen.indices.first(where: { seen[$0...].starts(with: Array("\r\n\r\n".utf8)) }) else {
                state = seen
                return nil
            }
            state = nil
            return Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n".utf8) + seen[(end + 4)...]
        }
        if let echo { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: echo)), promise: nil) }
    }
}
