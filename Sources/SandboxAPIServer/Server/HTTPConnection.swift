import NIOCore
import NIOHTTP1

/// Serves the HTTP/1.1 requests of one connection in order (keep-alive), handing each to the
/// API layer and writing its answer; a streamed answer (watch) ends when the client hangs up.
struct HTTPConnection {
    let channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    /// The user and groups of the client certificate, if the client presented one (read after
    /// the handshake).
    let certificateUser: @Sendable () async -> (user: String, groups: [String])?
    let handler: @Sendable (APIRequest) async -> APIResponse

    func run() async {
        let closed = channel.channel.closeFuture
        do {
            try await channel.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var subject: (user: String, groups: [String])?? = nil
                var body: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        body = []
                    case .body(let buffer):
                        body.append(contentsOf: buffer.readableBytesView)
                    case .end:
                        guard let head else { continue }
                        if subject == nil { subject = .some(await certificateUser()) }
                        let certificate = subject ?? nil
                        let request = APIRequest(
                            method: head.method, uri: head.uri, headers: head.headers, body: body,
                            user: certificate?.user ?? "", groups: certificate?.groups ?? [])
                        let response = await handler(request)
                        let keepAlive = head.isKeepAlive
                        try await write(response, version: head.version, keepAlive: keepAlive, outbound: outbound, closed: closed)
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            // The client went away or sent garbage; nothing to tell anyone.
        }
    }

    private func write(
        _ response: APIResponse, version: HTTPVersion, keepAlive: Bool,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, closed: EventLoopFuture<Void>,
        warnings: [String] = []
    ) async throws {
        switch response {
        case .warned(let inner, let more):
            try await write(inner, version: version, keepAlive: keepAlive, outbound: outbound, closed: closed, warnings: warnings + more)
        case .full(let status, let contentType, let body):
            var headers = HTTPHeaders()
            Self.addWarnings(warnings, to: &headers)
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Cache-Control", value: "no-cache, private")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: version, status: .init(statusCode: status), headers: headers)
            try await outbound.write(.head(head))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            try await outbound.write(.end(nil))
        case .stream(let contentType, let producer):
            var headers = HTTPHeaders()
            Self.addWarnings(warnings, to: &headers)
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Transfer-Encoding", value: "chunked")
            headers.add(name: "Cache-Control", value: "no-cache, private")
            try await outbound.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
            let writer = StreamWriter { bytes in
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
            }
            // Stop producing as soon as the client hangs up, even while no event is due. The
            // task is owned here: awaited below, cancelled by the close.
            let production = Task { await producer(writer) }
            closed.whenComplete { _ in production.cancel() }
            await withTaskCancellationHandler {
                await production.value
            } onCancel: {
                production.cancel()
            }
            try await outbound.write(.end(nil))
        }
    }

    /// One `Warning` header per distinct warning, as RFC 7234 and the real server write them:
    /// code 299, no agent, the text quoted with `"` and `\` escaped.
    static func addWarnings(_ warnings: [String], to headers: inout HTTPHeaders) {
        var seen: Set<String> = []
        for warning in warnings where seen.insert(warning).inserted {
            var quoted = "\""
            for character in warning {
                if character == "\"" || character == "\\" { quoted.append("\\") }
                quoted.append(character)
            }
            headers.add(name: "Warning", value: "299 - " + quoted + "\"")
        }
    }
}
