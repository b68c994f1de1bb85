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
        /// A second listener inside the cluster's network (the node namespace), where pods and
        /// the workstation reach the API server; the `kubernetes` Endpoints then point there.
        public var clusterListener: ClusterListener?
        /// What runs the pods (with `controllers`): the virtual node, or processes.
        public var node: NodeMode

        public init(
            name: String = "sandbox", host: String = "127.0.0.1", port: Int = 0,
            certificateAddresses: [String] = [], token: String? = nil, controllers: Bool = true,
            clusterListener: ClusterListener? = nil, node: NodeMode = .virtual
        ) {
            self.node = node
            self.name = name
            self.host = host
            self.port = port
            self.certificateAddresses = certificateAddresses
            self.token = token
            self.controllers = controllers
            self.clusterListener = clusterListener
        }
    }

    /// Where the API server listens inside a network namespace (see ``ClusterTopology``).
    public struct ClusterListener: Sendable {
        public var namespace: String
        public var host: String
        public var port: Int

        /// 192.0.2.1:6443 in the node namespace of `names`.
        public init(names: ClusterNames) {
            self.init(namespace: names.nodeNamespace, host: ClusterAddresses.apiServer, port: ClusterAddresses.apiServerPort)
        }

        public init(namespace: String, host: String, port: Int) {
            self.namespace = namespace
            self.host = host
            self.port = port
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
    private let serverChannels: [any Channel]
    private let acceptLoop: Task<Void, Never>
    private let controllerTask: Task<Void, Never>?
    private let acceptLoopDone: DoneFlag
    /// The node the configuration asked for; nil for the virtual node.
    public let node: (any PodNode)?

    private init(
        configuration: Configuration, port: Int, token: String, ca: CertificateAuthority, api: KubernetesAPI,
        group: MultiThreadedEventLoopGroup, serverChannels: [any Channel], acceptLoop: Task<Void, Never>,
        controllerTask: Task<Void, Never>?, acceptLoopDone: DoneFlag, node: (any PodNode)?
    ) {
        self.node = node
        self.configuration = configuration
        self.port = port
        self.token = token
        self.certificateAuthority = ca
        self.store = api.store
        self.api = api
        self.group = group
        self.serverChannels = serverChannels
        self.acceptLoop = acceptLoop
        self.controllerTask = controllerTask
        self.acceptLoopDone = acceptLoopDone
    }

    /// Starts a server and returns once it accepts connections.
    public static func start(_ configuration: Configuration = Configuration()) async throws -> APIServer {
        let ca = try CertificateAuthority(commonName: "\(configuration.name)-ca")
        var addresses = [configuration.host, "127.0.0.1", ClusterAddresses.kubernetesService]
            + (configuration.clusterListener.map { [$0.host] } ?? []) + configuration.certificateAddresses
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
        let node: (any PodNode)?
        if configuration.controllers, let make = configuration.node.make {
            node = try make(api, try ca.certificatePEM)
        } else {
            node = nil
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        // WebSocket upgrades (exec, port-forward) are decided by the API, with the subject of
        // the client certificate the handshake verified.
        let decideStream: @Sendable (APIRequest, any Channel) async -> StreamAnswer = { request, channel in
            var request = request
            if let subject = (try? await channel.nioSSL_peerCertificate().get()).flatMap(certificateSubject) {
                request.user = subject.user
                request.groups = subject.groups
            }
            return await api.openStream(request)
        }
        typealias Listener = NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        @Sendable func initialize(_ channel: any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>> {
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(StreamUpgradeHandler(decide: decideStream))
                return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
            }
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        var listeners: [Listener] = []
        do {
            listeners.append(try await bootstrap.bind(host: configuration.host, port: configuration.port, childChannelInitializer: initialize))
            if let cluster = configuration.clusterListener {
                // The socket is made on a thread inside the namespace; NIO serves it from anywhere.
                let socket = try ClusterNamespace.boundSocket(in: cluster.namespace, host: cluster.host, port: cluster.port)
                listeners.append(try await bootstrap.bind(socket, childChannelInitializer: initialize))
            }
        } catch {
            for listener in listeners { try? await listener.channel.close() }
            await node?.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
        let port = listeners[0].channel.localAddress?.port ?? configuration.port
        if let cluster = configuration.clusterListener {
            try api.publishEndpoints(host: cluster.host, port: cluster.port)
        } else {
            try api.publishEndpoints(host: configuration.host == "0.0.0.0" ? "127.0.0.1" : configuration.host, port: port)
        }
        let acceptLoopDone = DoneFlag()
        let bound = listeners
        let acceptLoop = Task {
            defer { acceptLoopDone.set() }
            await withDiscardingTaskGroup { servers in
                for server in bound {
                    servers.addTask {
                        _ = try? await server.executeThenClose { connections in
                            try await withThrowingDiscardingTaskGroup { tasks in
                                for try await connection in connections {
                                    tasks.addTask {
                                        let certificateUser: @Sendable () async -> (user: String, groups: [String])? = {
                                            let certificate = try? await connection.channel.nioSSL_peerCertificate().get()
                                            return certificate.flatMap(certificateSubject)
                                        }
                                        await HTTPConnection(channel: connection, certificateUser: certificateUser) {
                                            await api.handle($0)
                                        }.run()
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let controllerTask: Task<Void, Never>? =
            configuration.controllers ? Task { [node] in await ControllerManager(api: api, node: node).run() } : nil
        return APIServer(
            configuration: configuration, port: port, token: token, ca: ca, api: api, group: group,
            serverChannels: bound.map(\.channel), acceptLoop: acceptLoop, controllerTask: controllerTask,
            acceptLoopDone: acceptLoopDone, node: node)
    }

    /// Stops accepting, ends every connection (watches included) and the controllers.
    public func shutdown() async throws {
        controllerTask?.cancel()
        acceptLoop.cancel()
        for channel in serverChannels { try? await channel.close() }
        await controllerTask?.value
        await node?.shutdown()
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

    /// `https://192.0.2.1:6443` (the cluster-side listener), nil without one.
    public var clusterURL: String? {
        configuration.clusterListener.map { "https://\($0.host):\($0.port)" }
    }

    /// A kubeconfig (YAML) for this server: its CA, and the bootstrap token (the default: the
    /// user `kubernetes-admin` in `system:masters`), a fresh client certificate for
    /// `clientCertificateUser` in `groups` (its organizations), or another bearer `token` (a
    /// service account's, from ``requestToken(namespace:serviceAccount:expirationSeconds:)``).
    public func kubeconfig(
        server: String? = nil, clientCertificateUser: String? = nil, groups: [String] = ["system:masters"], token: String? = nil
    ) throws -> String {
        let ca = Data(try certificateAuthority.certificatePEM.utf8).base64EncodedString()
        var user: String
        if let token {
            user = "    token: \(token)"
        } else if let clientCertificateUser {
            let cert = try certificateAuthority.issueClientCertificate(commonName: clientCertificateUser, organizations: groups)
            user = """
                    client-certificate-data: \(Data(cert.certificatePEM.utf8).base64EncodedString())
                    client-key-data: \(Data(cert.privateKeyPEM.utf8).base64EncodedString())
                """
        } else {
            user = "    token: \(self.token)"
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

    /// A token for a service account, made as `kubectl create token` makes one (a TokenRequest
    /// through the API, as the admin): valid for `expirationSeconds` (default an hour) and for as
    /// long as the service account exists.
    public func requestToken(namespace: String, serviceAccount: String, expirationSeconds: Int? = nil) async throws -> String {
        var spec: JSONValue = [:]
        if let expirationSeconds { spec["expirationSeconds"] = .number(Double(expirationSeconds)) }
        let body: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec]
        let request = APIRequest(
            method: .POST, uri: "/api/v1/namespaces/\(namespace)/serviceaccounts/\(serviceAccount)/token",
            headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: JSONBytes.encode(body), user: "")
        guard case .full(let status, _, let bytes) = await api.handle(request) else {
            throw APIError(code: 500, reason: "InternalError", message: "the TokenRequest was answered with a stream")
        }
        let answer = try JSONBytes.decode(bytes)
        guard status == 201, let token = answer["status"]?["token"]?.stringValue else {
            throw APIError(code: status, reason: answer["reason"]?.stringValue ?? "", message: answer["message"]?.stringValue ?? "no token in the answer")
        }
        return token
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

/// The user a client certificate names: its subject's common name, and its organizations as
/// the user's groups (as the real server reads them). nil without a common name.
private func certificateSubject(_ certificate: NIOSSLCertificate) -> (user: String, groups: [String])? {
    guard let der = try? certificate.toDERBytes(), let parsed = try? X509.Certificate(derEncoded: der) else {
        return nil
    }
    var user: String?
    var groups: [String] = []
    for rdn in parsed.subject {
        for attribute in rdn {
            if attribute.type == .RDNAttributeType.commonName, user == nil { user = attribute.value.description }
            if attribute.type == .RDNAttributeType.organizationName { groups.append(attribute.value.description) }
        }
    }
    return user.map { ($0, groups) }
}
