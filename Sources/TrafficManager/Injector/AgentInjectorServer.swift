import AgentInjector
import Foundation
import KubeClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The mutating admission webhook's HTTPS server: `POST /traffic-agent` takes an AdmissionReview
/// v1 and answers it (always allowed; the patch as base64 JSONPatch). The serving certificate is
/// the one the install keeps in Secret `mutator-webhook-tls`, mounted into the manager.
public final class AgentInjectorServer: Sendable {
    /// The webhook's path (the MutatingWebhookConfiguration's `clientConfig.service.path`).
    public static let path = "/traffic-agent"

    /// The port it listens on (the one asked for, or the one the system chose for 0).
    public let port: Int
    private let channel: any Channel
    private let task: Task<Void, Never>

    private init(port: Int, channel: any Channel, task: Task<Void, Never>) {
        self.port = port
        self.channel = channel
        self.task = task
    }

    /// Starts the webhook when the install gave the manager its certificate (nil otherwise).
    static func startIfConfigured(settings: ManagerSettings, client: KubeClient, logger: Logger) async throws -> AgentInjectorServer? {
        let injector = settings.agentInjector
        guard injector.hasCertificate else {
            logger.info("no agent-injector certificate in \(injector.tlsDirectory): the webhook does not run, pods get no traffic-agent")
            return nil
        }
        let certificate = try String(contentsOfFile: injector.certificatePath, encoding: .utf8)
        let key = try String(contentsOfFile: injector.keyPath, encoding: .utf8)
        let server = try await start(
            host: settings.serverHost, port: injector.port, certificatePEM: certificate, privateKeyPEM: key,
            injector: AgentInjector(client: client, settings: settings.injectorSettings, logger: logger), logger: logger)
        logger.info("agent-injector webhook serving on \(settings.serverHost):\(server.port)\(path)")
        return server
    }

    /// Serves `injector` over HTTPS on `host:port` with the given certificate.
    public static func start(
        host: String, port: Int, certificatePEM: String, privateKeyPEM: String, injector: AgentInjector, logger: Logger
    ) async throws -> AgentInjectorServer {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(privateKeyPEM.utf8), format: .pem)))
        tls.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: tls)
        typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let channel = listener.channel
        let task = Task<Void, Never> {
            _ = try? await listener.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in connections {
                        group.addTask { await serve(connection, injector: injector, logger: logger) }
                    }
                }
            }
        }
        return AgentInjectorServer(port: channel.localAddress?.port ?? port, channel: channel, task: task)
    }

    /// Stops listening and ends the connections.
    public func stop() async {
        try? await channel.close()
        task.cancel()
        await task.value
    }

    private static func serve(
        _ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, injector: AgentInjector, logger: Logger
    ) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                for try await part in inbound {
                    switch part {
                    case .head(let received):
                        head = received
                        body.clear()
                    case .body(var chunk):
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let request = head else { continue }
                        let (status, answer) = await respond(to: request, body: body, injector: injector, logger: logger)
                        var headers = HTTPHeaders()
                        headers.add(name: "Content-Type", value: "application/json")
                        headers.add(name: "Content-Length", value: String(answer.count))
                        try await outbound.write(.head(HTTPResponseHead(version: request.version, status: status, headers: headers)))
                        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: answer))))
                        try await outbound.write(.end(nil))
                        head = nil
                    }
                }
            }
        } catch {
            logger.debug("agent-injector connection ended: \(error)")
        }
    }

    private static func respond(
        to head: HTTPRequestHead, body: ByteBuffer, injector: AgentInjector, logger: Logger
    ) async -> (HTTPResponseStatus, Data) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if path == "/healthz" { return (.ok, Data("{\"status\":\"ok\"}".utf8)) }
        guard path == Self.path else { return (.notFound, Data("{\"message\":\"no webhook at \(path); the agent injector serves \(Self.path)\"}".utf8)) }
        guard head.method == .POST else { return (.methodNotAllowed, Data("{\"message\":\"POST an AdmissionReview\"}".utf8)) }
        let request: AdmissionRequest
        do {
            request = try AdmissionReview.decodeRequest(body.readableBytesView)
        } catch {
            logger.error("agent-injector: a request that is no AdmissionReview: \(error)")
            return (.badRequest, Data("{\"message\":\"\("\(error)".replacingOccurrences(of: "\"", with: "'"))\"}".utf8))
        }
        let response = await injector.review(request)
        return (.ok, AdmissionReview(response: response).encoded())
    }
}
