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
    /// glibc's POSIX_SPAWN_SETSID (2.26+), which Swift does not import from spawn.h.
    static let spawnSetSID: Int32 = 0x80

    static func spawn(executable: String, arguments: [String], log: URL) throws {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(spawnSetSID))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the CLI's goes along: a caller that waits for EOF on a pipe it gave the
        // CLI (a shell's $(...), a test runner) would otherwise wait for the daemon to end.
        // (posix_spawn_file_actions_addclosefrom_np is not imported into Swift.)
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw DaemonSpawnError(executable: executable, code: result)
        }
    }
}

struct DaemonSpawnError: Error, CustomStringConvertible {
    let executable: String
    let code: Int32
    var description: String { "the user daemon \(executable) could not be started: \(String(cString: strerror(code)))" }
}
