import Foundation
import GRPCCore
import KubeClient
import Logging
import RPC
import SwiftProtobuf

/// The user daemon's API (connector.proto): connect, status, list, log level, quit. One
/// connection at a time; the kube client and the manager session live here, not in the CLI.
final class ConnectorService: Telepresence_Connector_Connector.SimpleServiceProtocol {
    let state: ConnectorState
    let logLevel: LogLevelControl
    let logger: Logger
    let onQuit: @Sendable () -> Void

    init(state: ConnectorState, logLevel: LogLevelControl, logger: Logger, onQuit: @escaping @Sendable () -> Void) {
        self.state = state
        self.logLevel = logLevel
        self.logger = logger
        self.onQuit = onQuit
    }

    func version(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Connector_VersionInfo {
        .with {
            $0.name = "User Daemon"
            $0.version = ProductVersion.current
            $0.executable = CommandLine.arguments.first ?? ""
            $0.pid = getpid()
        }
    }

    func connect(request: Telepresence_Connector_ConnectRequest, context: ServerContext) async throws -> Telepresence_Connector_ConnectInfo {
        await state.connect(request)
    }

    func disconnect(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        await state.disconnect()
        return Google_Protobuf_Empty()
    }

    func status(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Connector_ConnectInfo {
        await state.status()
    }

    func list(request: Telepresence_Connector_ListRequest, context: ServerContext) async throws -> Telepresence_Connector_WorkloadInfoSnapshot {
        try await state.list(request)
    }

    func setLogLevel(request: Telepresence_Connector_LogLevelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        guard let level = LogLevelControl.parse(request.logLevel) else {
            throw RPCError(code: .invalidArgument, message: "log level \(request.logLevel) is unknown; use error, warning, info, debug or trace")
        }
        let local = request.local || !request.remote
        let remote = request.remote || !request.local
        if local {
            logLevel.set(level, for: request.durationSeconds > 0 ? .seconds(request.durationSeconds) : nil)
            logger.info("log level set to \(level)")
        }
        if remote { try await state.setManagerLogLevel(request.logLevel, seconds: request.durationSeconds) }
        return Google_Protobuf_Empty()
    }

    func quit(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Google_Protobuf_Empty {
        logger.info("quit requested")
        await state.disconnect()
        onQuit()
        return Google_Protobuf_Empty()
    }
}

/// The connection the daemon holds, if any.
public actor ConnectorState {
    struct Connection {
        var client: KubeClient
        var session: ManagerSession
        var context: String
        var server: String
        var namespace: String
        var managerNamespace: String
        var mappedNamespaces: [String]
        var pod: ManagerPod
        var connectDuration: Duration
        /// The manager's tunnel port through this daemon's port-forward (for the root daemon).
        var tunnel: ManagerLink?
        var network: Telepresence_Daemon_NetworkStatus
        /// What the root daemon was asked for, to ask again after it restarted.
        var outbound: Telepresence_Daemon_OutboundInfo?
    }

    /// Makes the dialer for a connection: the port-forward in the product, a direct address in tests.
    public typealias DialerFactory = @Sendable (KubeClient, ClientPaths) -> any ManagerDialer

    let paths: ClientPaths
    let config: ClientConfig
    let makeDialer: DialerFactory
    let logger: Logger
    var connection: Connection?

    /// The way to the root daemon for the workstation's network.
    var networkJoin: NetworkJoin { NetworkJoin(root: RootDaemonClient(paths: RootDaemonPaths(paths)), logger: logger) }

    public init(paths: ClientPaths, config: ClientConfig, logger: Logger, makeDialer: DialerFactory? = nil) {
        self.paths = paths
        self.config = config
        self.logger = logger
        self.makeDialer = makeDialer ?? { client, paths in
            PortForwardManagerDialer(client: client, socketDirectory: paths.runtimeDirectory, logger: logger)
        }
    }

    func connect(_ request: Telepresence_Connector_ConnectRequest) async -> Telepresence_Connector_ConnectInfo {
        let started = ContinuousClock.now
        let configuration: ClientConfiguration
        do {
            configuration = try Self.configuration(for: request)
        } catch {
            return Self.failure(.clusterConfig(Self.describeConfigError(error, request: request)))
        }
        let namespace = request.namespace.isEmpty ? configuration.namespace : request.namespace
        let managerNamespace = request.managerNamespace.isEmpty ? config.defaultManagerNamespace : request.managerNamespace
        let context = configuration.contextName ?? ""

        if let existing = connection {
            if existing.context == context && existing.namespace == namespace && existing.managerNamespace == managerNamespace {
                await rejoinNetworkIfLost()
                var info = info(connection ?? existing)
                info.error = .alreadyConnected
                return info
            }
            return Self.failure(.alreadyConnectedElsewhere(context: existing.context, namespace: existing.namespace))
        }

        var configurationWithTimeout = configuration
        if configurationWithTimeout.requestTimeout == nil { configurationWithTimeout.requestTimeout = config.clusterConnectTimeout }
        let client = KubeClient(configuration: configurationWithTimeout)
        do {
            logger.info("connecting to \(configuration.server) (context \(context)), manager namespace \(managerNamespace)")
            let pod = try await withDeadline(config.clusterConnectTimeout) {
                try await ManagerLocator(client: client).readyPod(namespace: managerNamespace)
            }
            let identity = Telepresence_Manager_ClientInfo.with {
                $0.name = "\(NSUserName())@\(ProcessInfo.processInfo.hostName)"
                $0.installID = Self.installID(paths: paths)
                $0.product = "telepresence"
                $0.version = ProductVersion.current
                $0.namespace = namespace
                $0.mappedNamespaces = request.mappedNamespaces
            }
            let dialer = makeDialer(client, paths)
            let session = try await ManagerSession.open(
                dialer: dialer, pod: pod, identity: identity,
                timeout: config.trafficManagerConnectTimeout, logger: logger)
            // The workstation's network, when the root daemon runs (the CLI starts it first).
            let join = networkJoin
            var tunnel: ManagerLink?
            var joined: Telepresence_Daemon_OutboundInfo?
            var network = NetworkJoin.notRunning
            if join.root.isRunning() {
                do {
                    let link: ManagerLink
                    do {
                        link = try await dialer.openTunnel(pod: pod)
                    } catch let unavailable as TunnelUnavailable {
                        network.errorText = unavailable.description
                        throw unavailable
                    }
                    tunnel = link
                    guard case .unix(let socketPath) = link.address else {
                        throw ConnectError.networkFailed("the tunnel is not on a Unix socket")
                    }
                    let outbound = NetworkJoin.outbound(
                        clusterInfo: session.current.clusterInfo, request: request, session: session.current.session.sessionID,
                        namespace: namespace, server: configuration.server, tunnelSocket: socketPath,
                        tunnelConnections: config.tunnelConnections)
                    network = try await join.connect(outbound)
                    joined = outbound
                } catch is TunnelUnavailable {
                    logger.info("\(TunnelUnavailable())")
                } catch {
                    await tunnel?.close()
                    await session.close()
                    let reason = (error as? RPCError)?.message ?? "\(error)"
                    throw ConnectError.networkFailed(reason)
                }
            }
            let connection = Connection(
                client: client, session: session, context: context, server: configuration.server.description,
                namespace: namespace, managerNamespace: managerNamespace, mappedNamespaces: request.mappedNamespaces,
                pod: pod, connectDuration: ContinuousClock.now - started, tunnel: tunnel, network: network,
                outbound: joined)
            self.connection = connection
            if joined != nil {
                session.observeClusterInfo { [weak self] _ in
                    Task { await self?.followClusterInfo() }
                }
            }
            logger.info("connected in \(connection.connectDuration): session \(session.current.session.sessionID)")
            return info(connection)
        } catch let error as ConnectError {
            logger.warning("connect failed: \(error)")
            return Self.failure(error)
        } catch is DeadlineExceeded {
            let error = ConnectError.clusterUnreachable(
                server: configuration.server.description,
                reason: "no answer within \(config.clusterConnectTimeout.components.seconds) s")
            logger.warning("connect failed: \(error)")
            return Self.failure(error)
        } catch {
            logger.warning("connect failed: \(error)")
            return Self.failure(.managerUnreachable(namespace: managerNamespace, reason: "\(error)"))
        }
    }

    /// The cluster's info changed while connected (a node with a new pod subnet, say): the
    /// root daemon is told, and updates its routes and DNS in place. It always converges on
    /// the latest info, so changes handled out of order do no harm.
    private func followClusterInfo() async {
        guard let existing = connection, let outbound = existing.outbound else { return }
        let latest = NetworkJoin.updated(outbound, with: existing.session.current.clusterInfo)
        guard latest != outbound else { return }
        connection?.outbound = latest
        do {
            connection?.network = try await networkJoin.connect(latest)
            logger.info("the cluster's subnets changed; routes now \(latest.clusterSubnets.joined(separator: " "))")
        } catch {
            logger.warning("could not update the workstation's network to the cluster's new info: \(error)")
        }
    }

    /// A second `connect` after the root daemon died (and the CLI started a new one): the new
    /// daemon has no network, so it is asked to join again with what the old one had.
    private func rejoinNetworkIfLost() async {
        guard let existing = connection, let outbound = existing.outbound else { return }
        let join = networkJoin
        guard join.root.isRunning(), await join.status().state == "disconnected" else { return }
        do {
            connection?.network = try await join.connect(outbound)
            logger.info("the root daemon had lost the network (restarted); joined again")
        } catch {
            logger.warning("could not join the network again: \(error)")
        }
    }

    func disconnect() async {
        guard let connection else { return }
        self.connection = nil
        if connection.tunnel != nil {
            await networkJoin.disconnect()
            await connection.tunnel?.close()
        }
        await connection.session.close()
        connection.client.closeIdleConnections()
        logger.info("disconnected")
    }

    func status() async -> Telepresence_Connector_ConnectInfo {
        guard var connection else {
            return .with {
                $0.error = .disconnected
                $0.errorText = "not connected; run 'telepresence connect'"
            }
        }
        if connection.tunnel != nil {
            connection.network = await networkJoin.status()
            self.connection?.network = connection.network
        }
        return info(connection)
    }

    func list(_ request: Telepresence_Connector_ListRequest) async throws -> Telepresence_Connector_WorkloadInfoSnapshot {
        guard let connection else {
            throw RPCError(code: .failedPrecondition, message: "not connected; run 'telepresence connect' first")
        }
        let namespace = request.namespace.isEmpty ? connection.namespace : request.namespace
        do {
            let workloads = try await connection.session.workloads(namespace: namespace)
            return .with {
                $0.namespace = namespace
                $0.workloads = workloads
            }
        } catch let error as RPCError {
            throw RPCError(code: error.code, message: error.message)
        } catch {
            throw RPCError(code: .unavailable, message: "the traffic-manager did not list the workloads of \(namespace): \(error)")
        }
    }

    func setManagerLogLevel(_ level: String, seconds: Int64) async throws {
        guard let connection else { return }
        try await connection.session.setManagerLogLevel(level, seconds: seconds)
    }

    private func info(_ connection: Connection) -> Telepresence_Connector_ConnectInfo {
        let snapshot = connection.session.current
        return .with {
            $0.error = .unspecified
            $0.clusterServer = connection.server
            $0.clusterContext = connection.context
            $0.namespace = connection.namespace
            $0.managerNamespace = connection.managerNamespace
            $0.mappedNamespaces = connection.mappedNamespaces
            $0.sessionInfo = snapshot.session
            $0.managerVersion = snapshot.managerVersion
            $0.clusterInfo = snapshot.clusterInfo
            $0.sessionState = snapshot.state.rawValue
            $0.connectDurationMs = Int64(connection.connectDuration.components.seconds * 1000)
                + connection.connectDuration.components.attoseconds / 1_000_000_000_000_000
            $0.managerPod = connection.session.link.description
            $0.reconnects = Int32(snapshot.reconnects)
            $0.network = connection.network
        }
    }

    static func failure(_ error: ConnectError) -> Telepresence_Connector_ConnectInfo {
        .with {
            $0.error = error.errorType
            $0.errorText = error.description
        }
    }

    /// The kube configuration the CLI asked for, read with the CLI's environment and folder.
    static func configuration(for request: Telepresence_Connector_ConnectRequest) throws -> ClientConfiguration {
        let flags = request.kubeFlags
        func flag(_ name: String) -> String? { flags[name].flatMap { $0.isEmpty ? nil : $0 } }
        let overrides = ConfigurationOverrides(
            kubeconfig: flag("kubeconfig"), context: flag("context"), cluster: flag("cluster"), user: flag("user"),
            namespace: nil, server: flag("server"), token: flag("token"),
            certificateAuthority: flag("certificate-authority"),
            insecureSkipTLSVerify: flag("insecure-skip-tls-verify") == "true" ? true : nil,
            tlsServerName: flag("tls-server-name"), requestTimeout: flag("request-timeout"),
            impersonateUser: flag("as"), impersonateUID: flag("as-uid"),
            impersonateGroups: flag("as-group").map { $0.split(separator: ",").map(String.init) })
        let variables = request.environment.isEmpty ? ProcessInfo.processInfo.environment : request.environment
        let environment = ConfigurationEnvironment(
            variables: variables,
            workingDirectory: request.workingDirectory.isEmpty ? nil : request.workingDirectory)
        return try ClientConfigurationLoader.load(overrides: overrides, environment: environment)
    }

    /// An unknown context names the ones that exist.
    static func describeConfigError(_ error: any Error, request: Telepresence_Connector_ConnectRequest) -> String {
        let text = "\(error)"
        guard let context = request.kubeFlags["context"], !context.isEmpty, text.contains(context) else { return text }
        let variables = request.environment.isEmpty ? ProcessInfo.processInfo.environment : request.environment
        let environment = ConfigurationEnvironment(
            variables: variables, workingDirectory: request.workingDirectory.isEmpty ? nil : request.workingDirectory)
        guard let kubeconfig = try? KubeconfigLoader.load(explicitFile: request.kubeFlags["kubeconfig"], environment: environment) else {
            return text
        }
        let names = kubeconfig.contexts.map(\.name)
        if names.contains(context) { return text }
        return "context \(context) does not exist in the kubeconfig; use one of: \(names.joined(separator: ", ")) (see 'telepresence list-contexts')"
    }

    /// A stable id for this workstation's install, kept beside the logs.
    static func installID(paths: ClientPaths) -> String {
        let file = paths.logDirectory.deletingLastPathComponent().appendingPathComponent("id")
        if let id = try? String(contentsOf: file, encoding: .utf8), !id.isEmpty { return id }
        let id = UUID().uuidString.lowercased()
        try? id.write(to: file, atomically: true, encoding: .utf8)
        return id
    }
}
