import Foundation

/// Why a `CredentialSource` could not produce credentials. Each case prints as one sentence
/// that says what to do next.
public enum CredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A token file (kubeconfig `tokenFile` or the pod's service-account token) cannot be read.
    case tokenFileUnreadable(path: String, reason: String)
    /// The exec plugin's executable was not found (on `PATH` or at the given path).
    case execPluginNotFound(command: String, installHint: String?)
    /// The exec plugin could not be started or exited unsuccessfully.
    case execPluginFailed(command: String, status: Int32?, stderr: String)
    /// The exec plugin's output is not a valid `ExecCredential` for the configured version.
    case execPluginInvalidOutput(command: String, problem: String)
    /// The plugin demands a terminal (`interactiveMode: Always`) but there is none.
    case execPluginNeedsTerminal(command: String)

    public var description: String {
        switch self {
        case .tokenFileUnreadable(let path, let reason):
            return "cannot read the token file \(path): \(reason); check that it exists and holds a token"
        case .execPluginNotFound(let command, let hint):
            var text = "the credential plugin \"\(command)\" was not found; install it or fix users[].user.exec.command"
            if let hint, !hint.isEmpty {
                text += " (\(hint.trimmingCharacters(in: .whitespacesAndNewlines)))"
            }
            return text
        case .execPluginFailed(let command, let status, let stderr):
            let how = status.map { "exited with status \($0)" } ?? "could not be started"
            let detail = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            return "the credential plugin \"\(command)\" \(how)"
                + (detail.isEmpty ? "" : ": \(detail)")
                + "; run it by hand to see why it fails"
        case .execPluginInvalidOutput(let command, let problem):
            return "the credential plugin \"\(command)\" returned an unusable credential: \(problem); "
                + "update the plugin or fix users[].user.exec.apiVersion"
        case .execPluginNeedsTerminal(let command):
            return "the credential plugin \"\(command)\" needs an interactive terminal (interactiveMode: Always) "
                + "but none is available; log in with the plugin first or set interactiveMode: IfAvailable"
        }
    }
}
