import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RPC

/// The CLI's side of the user daemon: finds it by its socket, starts it in the background when
/// it is not running (and the command needs it), and speaks its API in the domain's terms. The
/// protobuf messages stay here and in the daemon's service.
public struct ConnectorClient: Sendable {
    public let paths: ClientPaths
    public let startTimeout: Duration

    public init(paths: ClientPaths, startTimeout: Duration = .seconds(10)) {
        self.paths = paths
        self.startTimeout = startTimeout
    }

    /// Whether a daemon answers on the socket.
    public func isRunning() -> Bool {
        UnixSocketProbe.accepts(path: paths.connectorSocket.path)
    }

    /// Starts `executable userd` detached (its own session, stdin from /dev/null, output to the
    /// log) unless one runs, and waits until its socket accepts connections.
    public func ensureRunning(executable: String) async throws {
        if isRunning() { return }
        try paths.prepare()
        try DaemonLauncher.launch(executable: executable, arguments: ["userd"], log: paths.connectorLog)
        try await DaemonLauncher.waitUntil(startTimeout, { isRunning() }) {
            ConnectorClientError.didNotStart(log: paths.connectorLog.path, seconds: Int(startTimeout.components.seconds))
        }
    }

    /// A connection to the daemon for the calls made in `body`.
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: paths.connectorSocket.path), transportSecurity: .plaintext)
        do {
            return try await withGRPCClient(transport: transport) { client in
                try await body(Session(api: Telepresence_Connector_Connector.Client(wrapping: client)))
            }
        } catch let error as RPCError {
            // The daemon writes its refusals as sentences for the user.
            throw ConnectorClientError.refused(error.message)
        }
    }

    /// The calls of the Connector API.
    public struct Session: Sendable {
        let api: Telepresence_Connector_Connector.Client<HTTP2ClientTransport.Posix>

        public func version() async throws -> DaemonVersion {
            DaemonVersion(wire: try await api.version(.init()))
        }

        public func connect(_ request: ConnectRequest) async throws -> ConnectOutcome {
            ConnectOutcome(wire: try await api.connect(request.wire))
        }

        public func disconnect() async throws {
            _ = try await api.disconnect(.init())
        }

        /// The connection, or nil when the daemon is not connected.
        public func status() async throws -> ConnectionInfo? {
            ConnectionStatusWire.read(try await api.status(.init()))
        }

        /// The workloads of `namespace` (nil: the connected one) that `filter` selects
        /// (Telepresence's bitmap; 0: every workload).
        public func list(namespace: String?, filter: ListFilter = []) async throws -> WorkloadListing {
            WorkloadListing(wire: try await api.list(.with {
                $0.namespace = namespace ?? ""
                $0.filter = filter.isEmpty ? .everything : .unspecified
                $0.filterBits = Int32(filter.rawValue)
            }))
        }

        /// Sets the log level of the daemon (`local`), the traffic-manager (`remote`), or both
        /// when neither is set, for `duration` (nil: until changed).
        public func setLogLevel(_ level: String, duration: Duration?, local: Bool, remote: Bool) async throws {
            _ = try await api.setLogLevel(.with {
                $0.logLevel = level
                $0.durationSeconds = duration?.components.seconds ?? 0
                $0.local = local
                $0.remote = remote
            })
        }

        /// Intercepts a workload's port; returns once it is active, or why not.
        public func createIntercept(_ request: InterceptRequest) async throws -> InterceptOutcome {
            InterceptOutcome(wire: try await api.createIntercept(request.wire))
        }

        /// Ends one of this client's intercepts (`leave`).
        public func removeIntercept(name: String, container: String = "") async throws -> InterceptOutcome {
            InterceptOutcome(wire: try await api.removeIntercept(.with {
                $0.name = name
                $0.containerName = container
            }))
        }

        /// Tells the daemon the pid of an intercept's handler, so it is signalled when the
        /// intercept ends some other way.
        public func addInterceptor(interceptID: String, pid: Int32) async throws {
            _ = try await api.addInterceptor(.with {
                $0.interceptID = interceptID
                $0.pid = pid
            })
        }

        /// Removes the agents of `workloads`, or every agent of the namespace (`uninstall`).
        public func uninstall(workloads: [String], allAgents: Bool, namespace: String?) async throws -> UninstallOutcome {
            UninstallOutcome(wire: try await api.uninstall(.with {
                $0.workloads = workloads
                $0.allAgents = allAgents
                $0.namespace = namespace ?? ""
            }))
        }

        public func quit() async throws {
            _ = try await api.quit(.init())
        }
    }
}

/// The daemon could not be started or reached, or refused a call.
public enum ConnectorClientError: Error, CustomStringConvertible {
    case didNotStart(log: String, seconds: Int)
    case notRunning
    /// The daemon's own sentence.
    case refused(String)

    public var description: String {
        switch self {
        case .didNotStart(let log, let seconds):
            "the user daemon did not start within \(seconds) s; see its log \(log)"
        case .notRunning:
            "telepresence is not running; run 'telepresence connect'"
        case .refused(let message):
            message
        }
    }
}
