import ChildProcess
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RPC

/// The way to the root daemon (from the CLI and the user daemon): finds it by its socket,
/// starts it when needed (directly as root, else with sudo, which may ask for a password on
/// the terminal), and runs calls on a client of its API.
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
            try DaemonSpawner.spawn(executable: executable, arguments: arguments, log: paths.log)
        } else {
            guard try await ChildProcess.runAttached(executable: "/usr/bin/sudo", arguments: ["-v"]) == 0 else {
                throw RootDaemonClientError.sudoFailed
            }
            try DaemonSpawner.spawn(executable: "/usr/bin/sudo", arguments: ["-n", executable] + arguments, log: paths.log)
        }
        let deadline = ContinuousClock.now + startTimeout
        while !isRunning() {
            guard ContinuousClock.now < deadline else {
                throw RootDaemonClientError.didNotStart(log: paths.log.path, seconds: Int(startTimeout.components.seconds))
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    public func withDaemon<T: Sendable>(
        _ body: @escaping @Sendable (Telepresence_Daemon_Daemon.Client<HTTP2ClientTransport.Posix>) async throws -> T
    ) async throws -> T {
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: paths.socket.path), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            try await body(Telepresence_Daemon_Daemon.Client(wrapping: client))
        }
    }
}

public enum RootDaemonClientError: Error, CustomStringConvertible {
    case didNotStart(log: String, seconds: Int)
    case sudoFailed

    public var description: String {
        switch self {
        case .didNotStart(let log, let seconds):
            "the root daemon did not start within \(seconds) s; see its log \(log)"
        case .sudoFailed:
            "the root daemon needs root to create the network device: sudo was refused; run telepresence as a user who may sudo"
        }
    }
}
