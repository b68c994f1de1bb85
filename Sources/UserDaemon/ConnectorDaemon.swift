import ClientSupport
import Diagnostics
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging

/// The user daemon: the Connector API on a user-only Unix socket in the runtime folder, until
/// Quit (or cancellation). The CLI starts it in the background (`telepresence userd`); tests
/// run it in process with a dialer of their own.
public final class ConnectorDaemon: Sendable {
    public let paths: ClientPaths
    public let connector: Connector
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, Never>

    private init(paths: ClientPaths, connector: Connector, server: GRPCServer<HTTP2ServerTransport.Posix>, serving: Task<Void, Never>) {
        self.paths = paths
        self.connector = connector
        self.server = server
        self.serving = serving
    }

    /// Starts serving; returns once the socket accepts connections.
    public static func start(
        paths: ClientPaths, config: ClientConfig, logLevel: LogLevelControl, logger: Logger,
        makeDialer: Connector.DialerFactory? = nil, agentPortForward: Bool = true
    ) async throws -> ConnectorDaemon {
        try paths.prepare()
        let socket = paths.connectorSocket.path
        unlink(socket)  // a stale socket of a daemon that died
        let connector = Connector(paths: paths, config: config, logger: logger, makeDialer: makeDialer, agentPortForward: agentPortForward)
        let shutdown = ShutdownSignal()
        let service = ConnectorService(connector: connector, logLevel: logLevel, logger: logger) { shutdown.fire() }
        let gate = PeerCredentialGate(allowing: getuid(), logger: logger)
        let transport = HTTP2ServerTransport.Posix(
            address: .unixDomainSocket(path: socket), transportSecurity: .plaintext, config: gate.serverConfig())
        let server = GRPCServer(transport: transport, services: [service])
        // The socket is created by bind; a umask makes it 0600 from the first moment.
        let previousMask = umask(0o077)
        let serving = Task {
            do { try await server.serve() } catch { logger.error("the connector's API stopped: \(error)") }
        }
        let address = try? await server.listeningAddress
        umask(previousMask)
        guard address != nil else {
            serving.cancel()
            throw DaemonError.cannotListen(socket: socket)
        }
        chmod(socket, 0o600)
        shutdown.onFire {
            // Let the Quit answer go out before the server stops.
            Task {
                try? await Task.sleep(for: .milliseconds(20))
                server.beginGracefulShutdown()
            }
        }
        logger.info("user daemon \(ProductVersion.current) listening on \(socket), pid \(getpid())")
        return ConnectorDaemon(paths: paths, connector: connector, server: server, serving: serving)
    }

    /// Waits until the daemon quits, then removes the socket.
    public func wait() async {
        await withTaskCancellationHandler {
            await serving.value
        } onCancel: {
            server.beginGracefulShutdown()
        }
        await connector.disconnect()
        unlink(paths.connectorSocket.path)
    }

    /// Stops the daemon (as Quit does) and waits for it.
    public func stop() async {
        await connector.disconnect()
        server.beginGracefulShutdown()
        await wait()
    }
}

/// Why the daemon could not start.
public enum DaemonError: Error, CustomStringConvertible {
    case cannotListen(socket: String)

    public var description: String {
        switch self {
        case .cannotListen(let socket):
            "the user daemon cannot listen on \(socket); remove the file if no telepresence daemon runs, or check the folder's permissions"
        }
    }
}
