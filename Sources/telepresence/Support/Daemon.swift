import ClientSupport
import Foundation

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
    static func ifRunning<T: Sendable>(_ body: @escaping @Sendable (ConnectorClient.Session) async throws -> T) async throws -> T? {
        let connector = try client()
        guard connector.isRunning() else { return nil }
        return try await connector.withSession(body)
    }

    /// Runs `body` against the daemon, starting it first when needed.
    static func started<T: Sendable>(_ body: @escaping @Sendable (ConnectorClient.Session) async throws -> T) async throws -> T {
        let connector = try client()
        if !connector.isRunning() {
            Terminal.progress("Launching Telepresence User Daemon")
            try await connector.ensureRunning(executable: Terminal.executablePath)
        }
        return try await connector.withSession(body)
    }
}
