import ClientSupport
import Diagnostics
import Foundation
import GRPCCore
import KubeClient
import Logging
import NetworkAddress

/// The user daemon's core: the connection to a cluster it holds, if any. It speaks the
/// domain's terms (`ConnectRequest` in, `ConnectOutcome`, `ConnectionInfo`, `WorkloadListing`
/// out); `ConnectorService` turns them into connector.proto's messages.
public actor Connector {
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
        var network: NetworkStatus
        /// What the root daemon was asked for, to ask again after it restarted.
        var networkRequest: NetworkRequest?
        /// This client's intercepts, their agent tunnels and handlers.
        var engagements: Engagements
        /// Things the user should know, said with `connect` and `status`.
        var notes: [String] = []
        /// Follows the cluster's namespaces when all of them are mapped.
        var namespaceWatch: Task<Void, Never>?
    }

    /// Makes the dialer for a connection: the port-forward in the product, a direct address in tests.
    public typealias DialerFactory = @Sendable (KubeClient, ClientPaths) -> any ManagerDialer

    let paths: ClientPaths
    let config: ClientConfig
    let makeDialer: DialerFactory
    /// Whether agent tunnels try a port-forward to the agent's pod first (Telepresence's
    /// `cluster.agentPortForward`); without it they go to podIP:port through the cluster network.
    let agentPortForward: Bool
    let logger: Logger
    var connection: Connection?

    /// The way to the root daemon for the workstation's network.
    var networkJoin: NetworkJoin { NetworkJoin(root: RootDaemonClient(paths: RootDaemonPaths(paths)), logger: logger) }

    public init(paths: ClientPaths, config: ClientConfig, logger: Logger, makeDialer: DialerFactory? = nil, agentPortForward: Bool = true) {
        self.agentPortForward = agentPortForward
        self.paths = paths
        self.config = config
        self.logger = logger
        self.makeDialer = makeDialer ?? { client, paths in
            PortForwardManagerDialer(client: client, socketDirectory: paths.runtimeDirectory, logger: logger)
        }
    }

    public func connect(_ request: ConnectRequest) async -> ConnectOutcome {
        let started = ContinuousClock.now
        let configuration: ClientConfiguration
        do {
            configuration = try Self.configuration(for: request)
        } catch {
            return .failed(ConnectError.clusterConfig(Self.describeConfigError(error, request: request)).failure)
        }
        let namespace = request.namespace ?? configuration.namespace
        let managerNamespace = request.managerNamespace ?? config.defaultManagerNamespace
        let context = configuration.contextName ?? ""

        if let existing = connection {
            if existing.context == context && existing.namespace == namespace && existing.managerNamespace == managerNamespace {
                await rejoinNetworkIfLost()
                return .alreadyConnected(info(connection ?? existing))
            }
            return .failed(ConnectError.alreadyConnectedElsewhere(context: existing.context, namespace: existing.namespace).failure)
        }

        var configurationWithTimeout = configuration
        if configurationWithTimeout.requestTimeout == nil { configurationWithTimeout.requestTimeout = config.clusterConnectTimeout }
        let client = KubeClient(configuration: configurationWithTimeout)
        do {
            logger.info("connecting to \(configuration.server) (context \(context)), manager namespace \(managerNamespace)")
            // Each request has the cluster's timeout; a manager that is installed but still
            // starting is waited for, as long as the manager's own timeout allows.
            let pod = try await ManagerLocator(client: client).readyPod(
                namespace: managerNamespace, patience: config.trafficManagerConnectTimeout, firstAnswer: config.clusterConnectTimeout)
            let mapping = await NamespaceMapping.resolve(
                requested: request.mappedNamespaces, configured: config.cluster?.mappedNamespaces, client: client,
                connected: namespace, manager: managerNamespace, logger: logger)
            let identity = ClientIdentity(
                name: "\(NSUserName())@\(ProcessInfo.processInfo.hostName)", installID: Self.installID(paths: paths),
                version: ProductVersion.current, namespace: namespace, mappedNamespaces: request.mappedNamespaces)
            let dialer = makeDialer(client, paths)
            let session = try await ManagerSession.open(
                dialer: dialer, pod: pod, identity: identity,
                timeout: config.trafficManagerConnectTimeout, logger: logger)
            // The workstation's network, when the root daemon runs (the CLI starts it first).
            let join = networkJoin
            var tunnel: ManagerLink?
            var joined: NetworkRequest?
            var network = NetworkJoin.notRunning
            if join.root.isRunning() {
                do {
                    let link: ManagerLink
                    do {
                        link = try await dialer.openTunnel(pod: pod)
                    } catch let unavailable as TunnelUnavailable {
                        network.note = unavailable.description
                        throw unavailable
                    }
                    tunnel = link
                    guard case .unix(let socketPath) = link.address else {
                        throw ConnectError.networkFailed("the tunnel is not on a Unix socket")
                    }
                    let networkRequest = NetworkJoin.request(
                        clusterInfo: session.current.clusterInfo, connect: request, mappedNamespaces: mapping.namespaces,
                        session: session.current.sessionID,
                        namespace: namespace, server: configuration.server, tunnelSocket: socketPath,
                        tunnelConnections: config.tunnelConnections)
                    network = try await join.connect(networkRequest)
                    joined = networkRequest
                } catch is TunnelUnavailable {
                    logger.info("\(TunnelUnavailable())")
                } catch {
                    await tunnel?.close()
                    await session.close()
                    throw ConnectError.networkFailed("\(error)")
                }
            }
            var connection = Connection(
                client: client, session: session, context: context, server: configuration.server.description,
                namespace: namespace, managerNamespace: managerNamespace, mappedNamespaces: mapping.namespaces,
                pod: pod, connectDuration: ContinuousClock.now - started, tunnel: tunnel, network: network,
                networkRequest: joined,
                engagements: Engagements(
                    session: session, namespace: namespace, managerNamespace: managerNamespace,
                    opener: AgentTunnelOpener(client: agentPortForward ? client : nil), logger: logger),
                notes: mapping.note.map { [$0] } ?? [])
            if mapping.followsCluster {
                let logger = logger
                connection.namespaceWatch = Task { [weak self] in
                    await mapping.follow(client: client, logger: logger) { [weak self] names in await self?.namespacesChanged(names) }
                }
            }
            self.connection = connection
            if joined != nil {
                session.observeClusterInfo { [weak self] _ in
                    Task { await self?.followClusterInfo() }
                }
            }
            logger.info("connected in \(connection.connectDuration): session \(session.current.sessionID)")
            return .connected(info(connection))
        } catch let error as ConnectError {
            logger.warning("connect failed: \(error)")
            return .failed(error.failure)
        } catch is DeadlineExceeded {
            let error = ConnectError.clusterUnreachable(
                server: configuration.server.description,
                reason: "no answer within \(config.clusterConnectTimeout.components.seconds) s")
            logger.warning("connect failed: \(error)")
            return .failed(error.failure)
        } catch {
            logger.warning("connect failed: \(error)")
            return .failed(ConnectError.managerUnreachable(namespace: managerNamespace, reason: "\(error)").failure)
        }
    }

    /// The cluster's info changed while connected (a node with a new pod subnet, say): the
    /// root daemon is told, and updates its routes and DNS in place. It always converges on
    /// the latest info, so changes handled out of order do no harm.
    private func followClusterInfo() async {
        guard let existing = connection, let request = existing.networkRequest else { return }
        let latest = request.updated(with: existing.session.current.clusterInfo)
        guard latest != request else { return }
        connection?.networkRequest = latest
        do {
            connection?.network = try await networkJoin.connect(latest)
            logger.info("the cluster's subnets changed; routes now \(latest.clusterSubnets.map(\.description).joined(separator: " "))")
        } catch {
            logger.warning("could not update the workstation's network to the cluster's new info: \(error)")
        }
    }

    /// A namespace was created or deleted while all are mapped: the root daemon's DNS follows.
    private func namespacesChanged(_ names: [String]) async {
        guard connection != nil else { return }
        connection?.mappedNamespaces = names
        guard var request = connection?.networkRequest, request.mappedNamespaces != names else { return }
        request.mappedNamespaces = names
        connection?.networkRequest = request
        do {
            connection?.network = try await networkJoin.connect(request)
            logger.info("mapped namespaces now \(names.joined(separator: " "))")
        } catch {
            logger.warning("could not map the cluster's new namespaces: \(error)")
        }
    }

    /// A second `connect` after the root daemon died (and the CLI started a new one): the new
    /// daemon has no network, so it is asked to join again with what the old one had.
    private func rejoinNetworkIfLost() async {
        guard let existing = connection, let request = existing.networkRequest else { return }
        let join = networkJoin
        guard join.root.isRunning(), await join.status().state == .disconnected else { return }
        do {
            connection?.network = try await join.connect(request)
            logger.info("the root daemon had lost the network (restarted); joined again")
        } catch {
            logger.warning("could not join the network again: \(error)")
        }
    }

    public func disconnect() async {
        guard let connection else { return }
        self.connection = nil
        connection.namespaceWatch?.cancel()
        await connection.engagements.endAll()
        if connection.tunnel != nil {
            await networkJoin.disconnect()
            await connection.tunnel?.close()
        }
        await connection.session.close()
        connection.client.closeIdleConnections()
        logger.info("disconnected")
    }

    /// The connection as it is now, or nil when there is none.
    public func status() async -> ConnectionInfo? {
        guard var connection else { return nil }
        if connection.tunnel != nil {
            connection.network = await networkJoin.status()
            self.connection?.network = connection.network
        }
        var result = info(connection)
        result.intercepts = await connection.engagements.intercepts
        return result
    }

    /// The workloads of `namespace` (nil: the connected one) that `filter` selects.
    public func list(namespace: String?, filter: ListFilter = []) async throws(ConnectorFailure) -> WorkloadListing {
        guard let connection else { throw .notConnected }
        let namespace = namespace ?? connection.namespace
        do {
            let workloads = try await connection.session.workloads(namespace: namespace)
            return WorkloadListing(namespace: namespace, workloads: workloads.filter(filter.selects))
        } catch let error as RPCError {
            throw .managerFailed(error.message)
        } catch {
            throw .managerFailed("the traffic-manager did not list the workloads of \(namespace): \(error)")
        }
    }

    func setManagerLogLevel(_ level: String, seconds: Int64) async throws {
        guard let connection else { return }
        try await connection.session.setManagerLogLevel(level, seconds: seconds)
    }

    private func info(_ connection: Connection) -> ConnectionInfo {
        let snapshot = connection.session.current
        return ConnectionInfo(
            clusterServer: connection.server, clusterContext: connection.context, namespace: connection.namespace,
            managerNamespace: connection.managerNamespace, mappedNamespaces: connection.mappedNamespaces,
            sessionID: snapshot.sessionID, clusterID: snapshot.clusterID, managerVersion: snapshot.managerVersion,
            clusterInfo: snapshot.clusterInfo, sessionState: snapshot.state, connectDuration: connection.connectDuration,
            managerLink: connection.session.link.description, reconnects: snapshot.reconnects, network: connection.network,
            notes: connection.notes)
    }

    /// The kube configuration the CLI asked for, read with the CLI's environment and folder.
    static func configuration(for request: ConnectRequest) throws -> ClientConfiguration {
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
        return try ClientConfigurationLoader.load(overrides: overrides, environment: environment(of: request))
    }

    static func environment(of request: ConnectRequest) -> ConfigurationEnvironment {
        ConfigurationEnvironment(
            variables: request.environment.isEmpty ? ProcessInfo.processInfo.environment : request.environment,
            workingDirectory: request.workingDirectory)
    }

    /// An unknown context names the ones that exist.
    static func describeConfigError(_ error: any Error, request: ConnectRequest) -> String {
        let text = "\(error)"
        guard let context = request.kubeFlags["context"], !context.isEmpty, text.contains(context) else { return text }
        guard let kubeconfig = try? KubeconfigLoader.load(explicitFile: request.kubeFlags["kubeconfig"], environment: environment(of: request)) else {
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

/// Why a call other than connect could not be answered.
public enum ConnectorFailure: Error, Sendable, Equatable, CustomStringConvertible {
    case notConnected
    /// The traffic-manager's own sentence, or what went wrong reaching it.
    case managerFailed(String)

    public var description: String {
        switch self {
        case .notConnected: "not connected; run 'telepresence connect' first"
        case .managerFailed(let message): message
        }
    }
}

// Engagements: what the connection's `Engagements` does, reached through the connector.
extension Connector {
    public func createIntercept(_ request: InterceptRequest) async -> InterceptOutcome {
        guard let connection else { return .failed(.notConnected, ConnectorFailure.notConnected.description) }
        return await connection.engagements.create(request)
    }

    public func removeIntercept(name: String, container: String = "") async -> InterceptOutcome {
        guard let connection else { return .failed(.notConnected, ConnectorFailure.notConnected.description) }
        return await connection.engagements.remove(name: name, container: container)
    }

    /// Registers a handler's pid; false when no intercept has that id.
    public func addInterceptor(interceptID: String, pid: Int32) async -> Bool {
        guard let connection else { return false }
        return await connection.engagements.addInterceptor(interceptID: interceptID, pid: pid)
    }

    public func uninstall(workloads: [String], allAgents: Bool, namespace: String?) async -> UninstallOutcome {
        guard let connection else { return UninstallOutcome(errorText: ConnectorFailure.notConnected.description) }
        let namespace = namespace ?? connection.namespace
        do {
            let removed = try await connection.session.uninstallAgents(namespace: namespace, workloads: workloads, all: allAgents)
            return UninstallOutcome(removed: removed)
        } catch let error as RPCError {
            return UninstallOutcome(errorText: error.message)
        } catch {
            return UninstallOutcome(errorText: "the traffic-manager did not remove the agents in \(namespace): \(error)")
        }
    }
}
