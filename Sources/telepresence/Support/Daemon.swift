import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RPC
import TelepresenceClient

/// The CLI's access to the user daemon and the client configuration.
enum Daemon {
    static var paths: ClientPaths { ClientPaths.current }

    static func config() throws -> ClientConfig {
        try ClientConfig.load(from: paths.configFile)
    }

    static func client() throws -> ConnectorClient {
        ConnectorClient(paths: paths, startTimeout: try config().connectorStartTimeout)
    }

    /// Runs `body` against a running daemon, or returns nil when none runs.
    static func ifRunning<T: Sendable>(
        _ body: @escaping @Sendable (Telepresence_Connector_Connector.Client<HTTP2ClientTransport.Posix>) async throws -> T
    ) async throws -> T? {
        let connector = try client()
        guard connector.isRunning() else { return nil }
        return try await connector.withConnector(body)
    }

    /// Runs `body` against the daemon, starting it first when needed.
    static func started<T: Sendable>(
        _ body: @escaping @Sendable (Telepresence_Connector_Connector.Client<HTTP2ClientTransport.Posix>) async throws -> T
    ) async throws -> T {
        let connector = try client()
        if !connector.isRunning() {
            Terminal.progress("Launching Telepresence User Daemon")
            try await connector.ensureRunning(executable: Terminal.executablePath)
        }
        return try await connector.withConnector(body)
    }

    /// An RPC error as the sentence the daemon wrote.
    static func message(_ error: any Error) -> String {
        if let error = error as? RPCError { return error.message }
        return "\(error)"
    }
}
