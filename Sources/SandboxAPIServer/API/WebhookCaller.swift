import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Where an admission webhook is reached: the address to dial (through the cluster network),
/// the name its certificate must carry (nil: the dialled IP address), and the CA to trust.
struct WebhookEndpoint: Sendable {
    var host: String
    var port: Int
    /// The request path with its query (`/mutate?timeout=10s`).
    var path: String
    var serverName: String?
    /// PEM certificates of `caBundle`; nil trusts the system's roots.
    var caBundle: [UInt8]?
    /// The URL as messages show it (`https://svc.ns.svc:443/mutate?timeout=10s`).
    var displayURL: String
}

/// Why a webhook could not be called; printed after `failed calling webhook "NAME": `.
struct WebhookCallError: Error, Sendable, CustomStringConvertible {
    let description: String
}

/// One HTTPS POST to a webhook over a socket from the cluster dialer, with TLS verified against
/// the webhook's CA, bounded by the webhook's timeout.
enum WebhookCaller {
    /// Largest answer accepted from a webhook.
    static let maxResponseBytes = 3 << 20

    static func post(_ body: [UInt8], to endpoint: WebhookEndpoint, dialer: any ClusterDialer, timeout: Duration) async throws(WebhookCallError) -> [UInt8] {
        let prefix = "failed to call webhook: Post \"\(endpoint.displayURL)\""
        let start = ContinuousClock.now
        let fd: Int32
        do {
            fd = try await dialer.connect(host: endpoint.host, port: endpoint.port)
        } catch {
            throw WebhookCallError(description: "\(prefix): \(error)")
        }
        let remaining = timeout - (ContinuousClock.now - start)
        guard remaining > .zero else {
            close(fd)
            throw WebhookCallError(description: "\(prefix): context deadline exceeded")
        }
        let sslContext: NIOSSLContext
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let ca = endpoint.caBundle {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            sslContext = try NIOSSLContext(configuration: tls)
        } catch {
            close(fd)
            throw WebhookCallError(description: "\(prefix): the webhook's caBundle is not a PEM certificate bundle (\(error))")
        }
        let eventLoop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = eventLoop.makePromise(of: (HTTPResponseHead, [UInt8]).self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: endpoint.serverName))
                        try sync.addHTTPClientHandlers()
                        try sync.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .withConnectedSocket(fd).get()
        } catch {
            close(fd)
            promise.fail(error)
            throw WebhookCallError(description: "\(prefix): \(error)")
        }
        let timer = eventLoop.scheduleTask(in: .nanoseconds(Int64(remaining.components.seconds) * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000)) {
            promise.fail(WebhookCallError(description: "context deadline exceeded"))
            channel.close(promise: nil)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.serverName.map { "\($0):\(endpoint.port)" } ?? "\(endpoint.host):\(endpoint.port)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, */*")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "User-Agent", value: "kube-apiserver-admission")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        let response: (HTTPResponseHead, [UInt8])
        do {
            response = try await promise.futureResult.get()
        } catch let error as WebhookCallError {
            throw WebhookCallError(description: "\(prefix): \(error.description)")
        } catch let error as NIOSSLError {
            throw WebhookCallError(description: "\(prefix): tls: \(error)")
        } catch {
            throw WebhookCallError(description: "\(prefix): \(error)")
        }
        guard response.0.status == .ok else {
            let text = String(decoding: response.1.prefix(200), as: UTF8.self)
            throw WebhookCallError(description: "\(prefix): the webhook answered HTTP \(response.0.status.code)\(text.isEmpty ? "" : ": \(text)")")
        }
        return response.1
    }
}

/// Collects one HTTP response.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<(HTTPResponseHead, [UInt8])>
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    init(promise: EventLoopPromise<(HTTPResponseHead, [UInt8])>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
            if body.count > WebhookCaller.maxResponseBytes {
                promise.fail(WebhookCallError(description: "the answer is larger than \(WebhookCaller.maxResponseBytes) bytes"))
                context.close(promise: nil)
            }
        case .end:
            if let head { promise.succeed((head, body)) }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(WebhookCallError(description: "EOF"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
