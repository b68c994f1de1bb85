import Foundation
import KubeClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PKI
import Synchronization
import X509

/// A running sandbox Kubernetes API server: HTTPS with its own CA, bearer-token and
/// client-certificate authentication, the REST API over an in-memory store, and the
/// controllers. Start one in process for tests:
///
/// ```swift
/// let server = try await APIServer.start()
/// defer { Task { try? await server.shutdown() } }   // or await it at the end of the test
/// try server.kubeconfig().write(to: url, atomically: true, encoding: .utf8)
/// ```
public final class APIServer: Sendable {
    public struct Configuration: Sendable {
        /// Names the cluster, context and user in the kubeconfig.
        public var name: String
        /// The address to listen on.
        public var host: String
        /// 0 picks a free port.
        public var port: Int
        /// Addresses the server certificate is valid for, besides `host`.
        public var certificateAddresses: [String]
        /// The bearer token clients present; nil makes a random one.
        public var token: String?
        /// Runs the Deployment/ReplicaSet/StatefulSet/Endpoints controllers and the virtual node.
        public var controllers: Bool

        public init(
            name: String = "sandbox", host: String = "127.0.0.1", port: Int = 0,
            certificateAddresses: [String] = [], token: String? = nil, controllers: Bool = true
        ) {
            self.name = name
            self.host = host
            self.port = port
            self.certificateAddresses = certificateAddresses
            self.token = token
            self.controllers = controllers
        }
    }

    public let configuration: Configuration
    /// The port the server listens on.
    public let port: Int
    /// The token a client must present as `Authorization: Bearer …`.
    public let token: String
    /// The CA that signed the server certificate and accepts client certificates.
    public let certificateAuthority: CertificateAuthority
    /// The objects; tests may read it directly, clients go through HTTPS.
    public let store: ObjectStore
    /// The REST API this server serves; its `node` is where a pod runtime is plugged in.
    public let api: KubernetesAPI

    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: any Channel
    private let acceptLoop: Task<Void, Never>
    private let controllerTask: Task<Void, Never>?
    private let acceptLoopDone: DoneFlag

    private init(
        configuration: Configuration, port: Int, token: String, ca: CertificateAuthority, api: KubernetesAPI,
        group: MultiThreadedEventLoopGroup, serverChannel: any Channel, acceptLoop: Task<Void, Never>,
        controllerTask: Task<Void, Never>?, acceptLoopDone: DoneFlag
    ) {
        self.configuration = configuration
        self.port = port
        self.token = token
        self.certificateAuthority = ca
        self.store = api.store
        self.api = api
        self.group = group
        self.serverChannel = serverChannel
        self.acceptLoop = acceptLoop
        self.controllerTask = controllerTask
        self.acceptLoopDone = acceptLoopDone
    }

    /// Starts a server and returns once it accepts connections.
    public static func start(_ configuration: Configuration = Configuration()) async throws -> APIServer {
        let ca = try CertificateAuthority(commonName: "\(configuration.name)-ca")
        var addresses = [configuration.host, "127.0.0.1", "10.96.0.1"] + configuration.certificateAddresses
        if configuration.host == "0.0.0.0" { addresses.removeFirst() }
        var seen = Set<String>()
        addresses = addresses.filter { seen.insert($0).inserted }
        let issued = try ca.issueServerCertificate(
            commonName: "kube-apiserver",
            dnsNames: ["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                       "kubernetes.default.svc.cluster.local"],
            ipAddresses: addresses)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(issued.certificatePEM.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)))
        tls.certificateVerification = .optionalVerification
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(try ca.certificatePEM.utf8), format: .pem)])
        tls.applicationProtocols = ["http/1.1"]
        let sslContext = try NIOSSLContext(configuration: tls)

        let token = configuration.token ?? randomToken()
        let store = ObjectStore()
        let api = KubernetesAPI(store: store, token: token, serverHost: configuration.host)
        try api.bootstrap()

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        // WebSocket upgrades (exec, port-forward) are decided by the API, with the user of the
        // client certificate when there is no bearer token.
        let decideStream: @Sendable (APIRequest, any Channel) async -> StreamAnswer = { request, channel in
            var request = request
            if request.headers.first(name: "authorization") == nil {
                let certificate = try? await channel.nioSSL_peerCertificate().get()
                request.user = certificate.flatMap(commonName) ?? ""
            }
            return await api.openStream(request)
        }
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(StreamUpgradeHandler(decide: decideStream))
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        let port = server.channel.localAddress?.port ?? configuration.port
        try api.publishEndpoints(host: configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host, port: port)
        let acceptLoopDone = DoneFlag()
        let acceptLoop = Task {
            defer { acceptLoopDone.set() }
            _ = try? await server.executeThenClose { connections in
                try await withThrowingDiscardingTaskGroup { tasks in
                    for try await connection in connections {
                        tasks.addTask {
                            let certificateUser: @Sendable () async -> String? = {
                                let certificate = try? await connection.channel.nioSSL_peerCertificate().get()
                                return certificate.flatMap(commonName)
                            }
                            await HTTPConnection(channel: connection, certificateUser: certificateUser) {
                                await api.handle($0)
                            }.run()
                        }
                    }
                }
            }
        }
        let controllerTask: Task<Void, Never>? =
            configuration.controllers ? Task { await ControllerManager(api: api).run() } : nil
        return APIServer(
            configuration: configuration, port: port, token: token, ca: ca, api: api, group: group,
            serverChannel: server.channel, acceptLoop: acceptLoop, controllerTask: controllerTask,
            acceptLoopDone: acceptLoopDone)
    }

    /// Stops accepting, ends every connection (watches included) and the controllers.
    public func shutdown() async throws {
        controllerTask?.cancel()
        acceptLoop.cancel()
        try? await serverChannel.close()
        await controllerTask?.value
        // Connections close themselves once cancelled, which needs their event loops running:
        // wait for that (briefly) before stopping the loops, or a close could wait forever.
        let deadline = ContinuousClock.now + .seconds(2)
        while !acceptLoopDone.isDone, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        try await group.shutdownGracefully()
    }

    /// `https://HOST:PORT`.
    public var url: String {
        let host = configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host
        return "https://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// A kubeconfig (YAML) for this server: its CA, and the bearer token (the default) or a
    /// fresh client certificate for `user` in `groups` when `clientCertificateUser` is given.
    public func kubeconfig(server: String? = nil, clientCertificateUser: String? = nil, groups: [String] = ["system:masters"]) throws -> String {
        let ca = Data(try certificateAuthority.certificatePEM.utf8).base64EncodedString()
        var user: String
        if let clientCertificateUser {
            let cert = try certificateAuthority.issueClientCertificate(commonName: clientCertificateUser, organizations: groups)
            user = """
                    client-certificate-data: \(Data(cert.certificatePEM.utf8).base64EncodedString())
                    client-key-data: \(Data(cert.privateKeyPEM.utf8).base64EncodedString())
                """
        } else {
            user = "    token: \(token)"
        }
        let name = configuration.name
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(name)
              cluster:
                server: \(server ?? url)
                certificate-authority-data: \(ca)
            users:
            - name: \(name)-admin
              user:
            \(user)
            contexts:
            - name: \(name)
              context:
                cluster: \(name)
                user: \(name)-admin
                namespace: default
            current-context: \(name)
            preferences: {}

            """
    }

    /// Writes `kubeconfig()` to `url` (mode 0600: it holds a credential).
    public func writeKubeconfig(to url: URL, clientCertificateUser: String? = nil) throws {
        try kubeconfig(clientCertificateUser: clientCertificateUser).write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
    }

    static func randomToken() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// Set once, read from anywhere: whether the accept loop has ended.
final class DoneFlag: Sendable {
    private let done = Mutex(false)
    var isDone: Bool { done.withLock { $0 } }
    func set() { done.withLock { $0 = true } }
}

/// The user a client certificate names: its subject's common name.
private func commonName(_ certificate: NIOSSLCertificate) -> String? {
    guard let der = try? certificate.toDERBytes(), let parsed = try? X509.Certificate(derEncoded: der) else {
        return nil
    }
    for rdn in parsed.subject {
        for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
            return attribute.value.description
        }
    }
    return nil
}
