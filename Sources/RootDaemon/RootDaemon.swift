import ClientSupport
import Diagnostics
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOPosix
import VIF

/// The root daemon: the Daemon API on a Unix socket in the user's runtime folder (0700, the
/// socket chowned to that user with mode 0600: only the user who started it, and root, can
/// open it), and every connection is checked against the kernel's record of the peer
/// (`PeerCredentialGate`). It owns the TUN device, routes, the userspace stack and the DNS configuration; it
/// never reads kube credentials.
public final class RootDaemon: Sendable {
    public let paths: RootDaemonPaths
    let sessions: NetworkSessions
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, Never>
    private let group: MultiThreadedEventLoopGroup

    private init(paths: RootDaemonPaths, sessions: NetworkSessions, server: GRPCServer<HTTP2ServerTransport.Posix>,
                 serving: Task<Void, Never>, group: MultiThreadedEventLoopGroup) {
        self.paths = paths
        self.sessions = sessions
        self.server = server
        self.serving = serving
        self.group = group
    }

    /// Cleans up after a crashed predecessor (its resolv.conf backup is the original), then
    /// serves. `allowedUID` owns the socket.
    public static func start(paths: RootDaemonPaths, allowedUID: uid_t, logger: Logger) async throws -> RootDaemon {
        guard geteuid() == 0 else { throw RootDaemonError.notRoot }
        try FileManager.default.createDirectory(at: paths.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if (try? ResolvConfOverride(backupPath: paths.resolvConfBackup.path).restore()) == true {
            logger.warning("restored /etc/resolv.conf left changed by a previous root daemon")
        }
        let socket = paths.socket.path
        unlink(socket)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let sessions = NetworkSessions(paths: paths, group: group, logger: logger)
        let shutdown = ShutdownSignal()
        let service = DaemonService(sessions: sessions) { shutdown.fire() }
        let gate = PeerCredentialGate(allowing: allowedUID, logger: logger)
        let transport = HTTP2ServerTransport.Posix(
            address: .unixDomainSocket(path: socket), transportSecurity: .plaintext, config: gate.serverConfig())
        let server = GRPCServer(transport: transport, services: [service])
        let previousMask = umask(0o077)
        let serving = Task {
            do { try await server.serve() } catch { logger.error("the root daemon's API stopped: \(error)") }
        }
        let address = try? await server.listeningAddress
        umask(previousMask)
        guard address != nil else {
            serving.cancel()
            try? await group.shutdownGracefully()
            throw RootDaemonError.cannotListen(socket)
        }
        chown(socket, allowedUID, gid_t(UInt32.max))
        chmod(socket, 0o600)
        shutdown.onFire {
            Task {
                try? await Task.sleep(for: .milliseconds(20))
                server.beginGracefulShutdown()
            }
        }
        logger.info("root daemon \(ProductVersion.current) listening on \(socket), pid \(getpid())")
        return RootDaemon(paths: paths, sessions: sessions, server: server, serving: serving, group: group)
    }

    /// Waits until Quit, then removes the network and the socket.
    public func wait() async {
        await withTaskCancellationHandler {
            await serving.value
        } onCancel: {
            server.beginGracefulShutdown()
        }
        await sessions.disconnect()
        unlink(paths.socket.path)
        try? await group.shutdownGracefully()
    }

    /// Disconnects and stops (SIGTERM).
    public func stop() async {
        await sessions.disconnect()
        server.beginGracefulShutdown()
        await wait()
    }
}

