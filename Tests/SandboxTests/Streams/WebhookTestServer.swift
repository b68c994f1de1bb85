import Foundation
import KubeClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PKI
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode
import Synchronization

/// An admission webhook served over HTTPS on 127.0.0.1 with a certificate from its own CA;
/// `decide` turns each AdmissionReview request into the response object (without uid, which
/// is filled in). Records the requests it got.
final class WebhookTestServer: Sendable {
    let channel: any Channel
    let ca: CertificateAuthority
    private let received = ReviewLog()

    var port: Int { channel.localAddress!.port! }
    var requests: [JSONValue] { received.entries.withLock { $0 } }
    /// `caBundle` for a webhook configuration.
    var caBundle: String { Data((try? ca.certificatePEM)?.utf8 ?? "".utf8).base64EncodedString() }

    init(decide: @escaping @Sendable (JSONValue) -> JSONValue) async throws {
        ca = try CertificateAuthority(commonName: "webhook-test-ca")
        let issued = try ca.issueServerCertificate(commonName: "webhook", dnsNames: ["webhook.default.svc"], ipAddresses: ["127.0.0.1"])
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(issued.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)))
        let context = try NIOSSLContext(configuration: tls)
        let received = self.received
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(ReviewHandler { request in
                        received.entries.withLock { $0.append(request) }
                        var response = decide(request)
                        response["uid"] = request["request"]?["uid"] ?? ""
                        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response]
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }

    /// A JSON patch response body field (base64 of the operations).
    static func patch(_ operations: JSONValue) -> JSONValue {
        ["allowed": true, "patchType": "JSONPatch", "patch": .string(Data(JSONBytes.encode(operations)).base64EncodedString())]
    }
}

private final class ReviewLog: Sendable {
    let entries = Mutex<[JSONValue]>([])
}

private final class ReviewHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let respond: @Sendable (JSONValue) -> JSONValue
    private var body: [UInt8] = []

    init(respond: @escaping @Sendable (JSONValue) -> JSONValue) { self.respond = respond }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: body = []
        case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
        case .end:
            let request = (try? JSONBytes.decode(body)) ?? .null
            let answer = JSONBytes.encode(respond(request))
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            headers.add(name: "Content-Length", value: String(answer.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: answer)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
