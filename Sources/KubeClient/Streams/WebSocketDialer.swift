import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Opens WebSocket streams (port-forward, exec) to the API server over the same `Connector` as
/// REST calls, with the same credentials and a 401 refresh-and-retry.
struct WebSocketDialer: Sendable {
    let transport: HTTPTransport

    /// An upgraded channel whose pipeline ends in a `WebSocketMessageHandler`, and the
    /// subprotocol the server chose.
    struct Upgraded: Sendable {
        let channel: any Channel
        let subprotocol: String?
    }

    private enum Outcome: Sendable {
        case upgraded(String?)
        case rejected(EventLoopFuture<(HTTPResponseHead, ByteBuffer)>)
    }

    func open(_ request: APIRequest, subprotocols: [String]) async throws -> Upgraded {
        var refreshed = false
        let credentialSource = transport.configuration.credentials
        while true {
            let credentials = try await credentialSource.credentials()
            let identity = transport.configuration.server.scheme == .https ? credentials.clientCertificate : nil
            let channel = try await transport.connector.connect(clientCertificate: identity)
            var head = transport.makeHead(request, credentials: credentials)
            head.headers.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", "))
            do {
                let outcome = try await withTaskCancellationHandler {
                    try await upgrade(channel: channel, head: head)
                } onCancel: {
                    channel.close(promise: nil)
                }
                switch outcome {
                case .upgraded(let chosen):
                    if let chosen, !subprotocols.contains(chosen) {
                        channel.close(promise: nil)
                        throw KubeError.upgradeFailed(
                            server: transport.configuration.server.description,
                            reason: "the server chose the unknown subprotocol \(chosen)")
                    }
                    return Upgraded(channel: channel, subprotocol: chosen)
                case .rejected(let response):
                    let (responseHead, body) = try await response.get()
                    channel.close(promise: nil)
                    let code = Int(responseHead.status.code)
                    if code == 401, !refreshed, try await credentialSource.refreshAfterUnauthorized() {
                        refreshed = true
                        continue
                    }
                    if (200..<300).contains(code) {
                        throw KubeError.upgradeFailed(
                            server: transport.configuration.server.description,
                            reason: "it answered HTTP \(code) instead of switching to WebSocket")
                    }
                    throw transport.error(code: code, body: body, request: request)
                }
            } catch {
                channel.close(promise: nil)
                throw transport.mapError(error)
            }
        }
    }

    private func upgrade(channel: any Channel, head: HTTPRequestHead) async throws -> Outcome {
        let timeout = transport.connector.connectTimeout
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Outcome> in
            let upgrader = NIOTypedWebSocketClientUpgrader<Outcome>(
                maxFrameSize: 1 << 24,
                upgradePipelineHandler: { channel, response in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(WebSocketMessageHandler())
                        return Outcome.upgraded(response.headers.first(name: "Sec-WebSocket-Protocol"))
                    }
                })
            let upgradeConfiguration = NIOTypedHTTPClientUpgradeConfiguration<Outcome>(
                upgradeRequestHead: head,
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let collector = ResponseCollector(promise: channel.eventLoop.makePromise())
                        try channel.pipeline.syncOperations.addHandler(collector)
                        return Outcome.rejected(collector.promise.futureResult)
                    }
                })
            var configuration = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: upgradeConfiguration)
            // The server may send its first frames in the same segment as the 101 response.
            configuration.leftOverBytesStrategy = .forwardBytes
            do {
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
            } catch {
                return channel.eventLoop.makeFailedFuture(error)
            }
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { timer.cancel() }
        return try await future.get()
    }
}

/// Collects a (non-upgrade) HTTP response, to turn a refused upgrade into a `KubeError`.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let promise: EventLoopPromise<(HTTPResponseHead, ByteBuffer)>
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var done = false

    init(promise: EventLoopPromise<(HTTPResponseHead, ByteBuffer)>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body(var chunk): if body.readableBytes < 1 << 20 { body.writeBuffer(&chunk) }
        case .end: complete(nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        complete(ChannelError.eof)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(error)
        context.close(promise: nil)
    }

    private func complete(_ error: (any Error)?) {
        guard !done else { return }
        done = true
        if let head { promise.succeed((head, body)) } else { promise.fail(error ?? ChannelError.eof) }
    }
}
