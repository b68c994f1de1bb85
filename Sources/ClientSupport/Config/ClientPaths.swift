import Foundation

/// Where the workstation side keeps its files, following the XDG base directories as
/// Telepresence does on Linux: the daemon's socket in the runtime folder, logs in the cache
/// folder, `config.yml` in the config folder.
public struct ClientPaths: Sendable, Equatable {
    /// Holds the connector's socket; user-only (0700).
    public var runtimeDirectory: URL
    public var logDirectory: URL
    public var configFile: URL

    public init(runtimeDirectory: URL, logDirectory: URL, configFile: URL) {
        self.runtimeDirectory = runtimeDirectory
        self.logDirectory = logDirectory
        self.configFile = configFile
    }

    /// `$XDG_RUNTIME_DIR/telepresence` (else `/tmp/telepresence-<uid>`),
    /// `$XDG_CACHE_HOME/telepresence/logs` (else `~/.cache/...`),
    /// `$XDG_CONFIG_HOME/telepresence/config.yml` (else `~/.config/...`).
    public static func from(environment: [String: String]) -> ClientPaths {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        func base(_ variable: String, _ fallback: String) -> URL {
            if let value = environment[variable], value.hasPrefix("/") { return URL(fileURLWithPath: value) }
            return URL(fileURLWithPath: home).appendingPathComponent(fallback)
        }
        let runtime: URL
        if let value = environment["XDG_RUNTIME_DIR"], value.hasPrefix("/") {
            runtime = URL(fileURLWithPath: value).appendingPathComponent("telepresence")
        } else {
            runtime = URL(fileURLWithPath: "/tmp/telepresence-\(getuid())")
        }
        return ClientPaths(
            runtimeDirectory: runtime,
            logDirectory: base("XDG_CACHE_HOME", ".cache").appendingPathComponent("telepresence/logs"),
            configFile: base("XDG_CONFIG_HOME", ".config").appendingPathComponent("telepresence/config.yml"))
    }

    public static var current: ClientPaths { from(environment: ProcessInfo.processInfo.environment) }

    /// The user daemon's gRPC socket.
    public var connectorSocket: URL { runtimeDirectory.appendingPathComponent("connector.socket") }
    /// The user daemon's log.
    public var connectorLog: URL { logDirectory.appendingPathComponent("connector.log") }

    /// Makes the runtime folder (0700) and the log folder.
    public func prepare() throws {
        try FileManager.default.createDirectory(at: runtimeDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(runtimeDirectory.path, 0o700)
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
    }
}
