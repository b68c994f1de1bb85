import ChildProcess
import Foundation

/// Credentials from an exec credential plugin (`users[].user.exec`), for example
/// `aws eks get-token` or `gke-gcloud-auth-plugin`.
///
/// The plugin runs on first use; its credential is kept until its `expirationTimestamp` (for
/// the life of the process without one). Concurrent callers share one run. After a 401 the
/// plugin runs again. Plugins never get a terminal: `spec.interactive` is `false`, and a plugin
/// configured with `interactiveMode: Always` fails with a clear error instead of hanging.
public actor ExecCredentialSource: CredentialSource {
    public nonisolated let plugin: KubeconfigExec
    public nonisolated let cluster: ExecClusterInfo?
    /// The environment the plugin inherits; `plugin.env` is added on top.
    private let environment: [String: String]

    private var cached: ExecCredentialMessages.Credential?
    private var running: Task<ExecCredentialMessages.Credential, any Error>?

    /// - Parameters:
    ///   - cluster: sent to the plugin only when `plugin.provideClusterInfo` is set.
    ///   - environment: the inherited environment; `PATH` in it is used to find the command.
    public init(plugin: KubeconfigExec, cluster: ExecClusterInfo? = nil, environment: [String: String]) {
        self.plugin = plugin
        self.cluster = cluster
        self.environment = environment
    }

    public func credentials() async throws -> RequestCredentials {
        if let cached, !Self.isExpired(cached) { return cached.credentials }
        return try await runOnce().credentials
    }

    /// Runs the plugin again (once, however many requests failed together) and asks for a retry.
    public func refreshAfterUnauthorized() async throws -> Bool {
        if running == nil { cached = nil }
        _ = try await runOnce()
        return true
    }

    /// Joins the run in progress or starts one.
    private func runOnce() async throws -> ExecCredentialMessages.Credential {
        if let running { return try await running.value }
        let task = Task { try await Self.execute(plugin: plugin, cluster: cluster, environment: environment) }
        running = task
        defer { running = nil }
        // A cancelled caller stops the plugin rather than leaving it running unowned; callers
        // that joined this run see the cancellation too.
        let credential = try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
        cached = credential
        return credential
    }

    private static func isExpired(_ credential: ExecCredentialMessages.Credential) -> Bool {
        guard let expiration = credential.expiration else { return false }
        return expiration <= Date()
    }

    private static func execute(
        plugin: KubeconfigExec, cluster: ExecClusterInfo?, environment: [String: String]
    ) async throws -> ExecCredentialMessages.Credential {
        if plugin.interactiveMode == .always {
            throw CredentialError.execPluginNeedsTerminal(command: plugin.command)
        }
        guard let executable = locate(plugin.command, path: environment["PATH"]) else {
            throw CredentialError.execPluginNotFound(command: plugin.command, installHint: plugin.installHint)
        }
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw CredentialError.execPluginFailed(
                command: plugin.command, status: nil, stderr: "\(executable) is not executable (chmod +x it)")
        }
        var childEnvironment = environment
        for variable in plugin.env { childEnvironment[variable.name] = variable.value }
        childEnvironment["KUBERNETES_EXEC_INFO"] = ExecCredentialMessages.execInfo(
            apiVersion: plugin.apiVersion,
            cluster: plugin.provideClusterInfo ? cluster : nil,
            interactive: false)

        let output: ChildProcess.Output
        do {
            output = try await ChildProcess.run(
                executable: executable, arguments: plugin.args, environment: childEnvironment)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw CredentialError.execPluginFailed(command: plugin.command, status: nil, stderr: "\(error)")
        }
        guard output.status == 0 else {
            throw CredentialError.execPluginFailed(
                command: plugin.command, status: output.status, stderr: String(decoding: output.stderr, as: UTF8.self))
        }
        do {
            return try ExecCredentialMessages.parseResponse(output.stdout, expectedAPIVersion: plugin.apiVersion)
        } catch {
            throw CredentialError.execPluginInvalidOutput(command: plugin.command, problem: error.description)
        }
    }

    /// The executable for `command`: itself when it is a path that exists, else the first
    /// executable match on `PATH`.
    static func locate(_ command: String, path: String?) -> String? {
        let fileManager = FileManager.default
        if command.contains("/") {
            return fileManager.fileExists(atPath: command) ? command : nil
        }
        for directory in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let candidate = String(directory) + "/" + command
            var isDirectory: ObjCBool = false
            if fileManager.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               fileManager.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }
}
