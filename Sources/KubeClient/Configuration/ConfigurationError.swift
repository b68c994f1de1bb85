import Foundation

/// Why no usable `ClientConfiguration` could be made. Each case prints as one sentence that
/// names the file and field at fault and says what to do next.
public enum ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file is not valid YAML.
    case syntax(file: String, line: Int?, problem: String)
    /// A field has the wrong type or an invalid value. `field` is a path such as
    /// `users[2].user.client-key-data`.
    case invalidField(file: String, field: String, problem: String)
    /// `--kubeconfig` (or another explicitly named file) does not exist or cannot be read.
    case unreadableFile(path: String, reason: String)
    /// No kubeconfig file was found and nothing else (flags, in-cluster) says where to connect.
    case noConfiguration(searched: [String])
    /// No context was chosen: `current-context` is unset and `--context` was not given.
    case noContext(files: [String])
    /// A context, cluster or user named by a field or flag is not defined anywhere.
    /// `referrer` is `file: field` or the flag, e.g. `--context`.
    case undefinedName(kind: String, name: String, referrer: String)
    /// The selected cluster has no `server` and `--server` was not given.
    case missingServer(cluster: String, file: String?, field: String?)
    /// A user is set up for something this client cannot do (auth-provider, socks5 proxy, …).
    case unsupported(file: String, field: String, what: String, advice: String)
    /// Two settings exclude each other (token and basic auth, CA and insecure-skip-tls-verify).
    case conflict(file: String, field: String, problem: String)
    /// A command-line override has an invalid value.
    case invalidOverride(flag: String, value: String, problem: String)
    /// In-cluster configuration was requested but this is not a pod (or its files are missing).
    case notInCluster(reason: String)

    public var description: String {
        switch self {
        case .syntax(let file, let line, let problem):
            let place = line.map { "\(file):\($0)" } ?? file
            return "\(place): invalid YAML (\(problem)); fix the file or point KUBECONFIG elsewhere"
        case .invalidField(let file, let field, let problem):
            return "\(file): \(field) \(problem)"
        case .unreadableFile(let path, let reason):
            return "cannot read kubeconfig \(path): \(reason); check the --kubeconfig path"
        case .noConfiguration(let searched):
            let list = searched.isEmpty ? "" : " (looked in \(searched.joined(separator: ", ")))"
            return "no Kubernetes configuration found\(list); set KUBECONFIG, pass --kubeconfig, or pass --server"
        case .noContext(let files):
            let list = files.isEmpty ? "the kubeconfig" : files.joined(separator: ", ")
            return "no current context is set in \(list); pass --context or run `kubectl config use-context NAME`"
        case .undefinedName(let kind, let name, let referrer):
            return "\(referrer): \(kind) \"\(name)\" is not defined in any kubeconfig; "
                + "define it or choose another with `kubectl config get-\(kind == "user" ? "users" : kind + "s")`"
        case .missingServer(let cluster, let file, let field):
            if let file, let field {
                return "\(file): \(field).server is not set for cluster \"\(cluster)\"; set it or pass --server"
            }
            return "no API server is configured; select a context with a cluster or pass --server"
        case .unsupported(let file, let field, let what, let advice):
            return "\(file): \(field): \(what) is not supported; \(advice)"
        case .conflict(let file, let field, let problem):
            return "\(file): \(field): \(problem)"
        case .invalidOverride(let flag, let value, let problem):
            return "\(flag)=\(value): \(problem)"
        case .notInCluster(let reason):
            return "cannot use the in-cluster configuration: \(reason)"
        }
    }
}
