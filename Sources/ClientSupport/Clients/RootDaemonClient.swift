import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RPC

/// The way to the root daemon (from the CLI and the user daemon): finds it by its socket,
/// starts it when needed (directly as root, else with sudo, which may ask for a password on
/// the terminal), and speaks its API in the domain's terms.
public struct RootDaemonClient: Sendable {
    public let paths: RootDaemonPaths
    public let startTimeout: Duration

    public init(paths: RootDaemonPaths, startTimeout: Duration = .seconds(10)) {
        self.paths = paths
        self.startTimeout = startTimeout
    }

    public func isRunning() -> Bool {
        UnixSocketProbe.accepts(path: paths.socket.path)
    }

    /// Starts `executable daemon-foreground` detached unless one answers, and waits until it
    /// does. Not root: `sudo` first validates interactively (the terminal's password prompt),
    /// then starts the daemon without a terminal.
    public func ensureRunning(executable: String) async throws {
        if isRunning() { return }
        try FileManager.default.createDirectory(at: paths.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let arguments = ["daemon-foreground", "--directory", paths.directory.path, "--allowed-uid", String(getuid())]
        if geteuid() == 0 {
            try DaemonLauncher.launch(executable: executable, arguments: arguments, log: paths.log)
        } else {
            guard try await DaemonLauncher.runAttached("/usr/bin/sudo", ["-v"]) == 0 else { throw RootDaemonClientError.sudoFailed }
            try DaemonLauncher.launch(executable: "/usr/bin/sudo", arguments: ["-n", executable] + arguments, log: paths.log)
        }
        try await DaemonLauncher.waitUntil(startTimeout, { isRunning() }) {
            RootDaemonClientError.didNotStart(log: paths.log.path, seconds: Int(startTimeout.components.seconds))
        }
    }

    /// A connection to the daemon for the calls made in `body`.
    public func withSession<T: Sendable>(_ body: @escaping @Sendable (Session) async throws -> T) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: paths.socket.path), transportSecurity: .plaintext)
        do {
            return try await withGRPCClient(transport: transport) { client in
                try await body(Session(api: Telepresence_Daemon_Daemon.Client(wrapping: client)))
            }
        } catch let error as RPCError {
            throw RootDaemonClientError.refused(error.message)
        }
    }

    /// The calls of the Daemon API.
    public struct Session: Sendable {
        let api: Telepresence_Daemon_Daemon.Client<HTTP2ClientTransport.Posix>

        public func version() async throws -> DaemonVersion {
            DaemonVersion(wire: try await api.version(.init()))
        }

        /// Joins the cluster network (or changes the joined one in place).
        public func connect(_ request: NetworkRequest) async throws -> NetworkStatus {
            NetworkStatus(wire: try await api.connect(request.wire))
        }

        public func disconnect() async throws -> NetworkStatus {
            NetworkStatus(wire: try await api.disconnect(.init()))
        }

        public func status() async throws -> NetworkStatus {
            NetworkStatus(wire: try await api.status(.init()))
        }

        public func quit() async throws {
            _ = try await api.quit(.init())
        }
    }
}

public enum RootDaemonClientError: Error, CustomStringConvertible {
    case didNotStart(log: String, seconds: Int)
    case sudoFailed
    /// The daemon's own sentence.
    case refused(String)

    public var description: String {
        switch self {
        case .didNotStart(let log, let seconds):
            "the root daemon did not start within \(seconds) s; see its log \(log)"
        case .sudoFailed:
            "the root daemon needs root to create the network device: sudo was refused; run telepresence as a user who may sudo"
        case .refused(let message):
            message
        }
    }
}
