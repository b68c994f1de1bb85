import ChildProcess
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RPC

/// The CLI's side of the user daemon: finds it by its socket, starts it in the background when
/// it is not running (and the command needs it), and runs calls on a gRPC client to it.
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
        try DaemonSpawner.spawn(executable: executable, arguments: ["userd"], log: paths.connectorLog)
        let deadline = ContinuousClock.now + startTimeout
        while !isRunning() {
            guard ContinuousClock.now < deadline else {
                throw ConnectorClientError.didNotStart(log: paths.connectorLog.path, seconds: Int(startTimeout.components.seconds))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Runs `body` with a client of the daemon's API.
    public func withConnector<T: Sendable>(
        _ body: @escaping @Sendable (Telepresence_Connector_Connector.Client<HTTP2ClientTransport.Posix>) async throws -> T
    ) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(
            target: .unixDomainSocket(path: paths.connectorSocket.path), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            try await body(Telepresence_Connector_Connector.Client(wrapping: client))
        }
    }
}

/// The daemon could not be started or reached.
public enum ConnectorClientError: Error, CustomStringConvertible {
    case didNotStart(log: String, seconds: Int)
    case notRunning

    public var description: String {
        switch self {
        case .didNotStart(let log, let seconds):
            "the user daemon did not start within \(seconds) s; see its log \(log)"
        case .notRunning:
            "telepresence is not running; run 'telepresence connect'"
        }
    }
}

/// Whether something accepts connections on a Unix socket (a plain connect, no I/O).
enum UnixSocketProbe {
    static func accepts(path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}

/// Starts a daemon process that outlives the CLI: a new session (no terminal's hangup reaches
/// it), stdin from /dev/null, stdout and stderr appended to its log.
enum DaemonSpawner {
    static func spawn(executable: String, arguments: [String], log: URL) throws {
        do {
            _ = try ChildProcess.spawnDetached(executable: executable, arguments: arguments, log: log.path, logPermissions: 0o600)
        } catch {
            throw DaemonSpawnError(executable: executable, code: error.errno)
        }
    }
}

struct DaemonSpawnError: Error, CustomStringConvertible {
    let executable: String
    let code: Int32
    var description: String { "the user daemon \(executable) could not be started: \(String(cString: strerror(code)))" }
}
