import Foundation

/// What the configuration layer reads from the process: environment variables (`KUBECONFIG`,
/// `HOME`, `KUBERNETES_SERVICE_HOST`, …), the home and working directories, and where a pod's
/// service-account files live. Injected so tests never depend on the machine they run on.
public struct ConfigurationEnvironment: Sendable {
    /// Environment variables; exec credential plugins inherit them.
    public var variables: [String: String]
    /// `~`: `HOME` when set, else the account's home directory.
    public var homeDirectory: String
    /// Relative `KUBECONFIG` entries and `--kubeconfig` paths resolve against this.
    public var workingDirectory: String
    /// Where a pod's service-account token, `ca.crt` and `namespace` files are mounted.
    public var serviceAccountDirectory: String

    public static let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public init(
        variables: [String: String],
        homeDirectory: String? = nil,
        workingDirectory: String? = nil,
        serviceAccountDirectory: String = ConfigurationEnvironment.defaultServiceAccountDirectory
    ) {
        self.variables = variables
        self.homeDirectory = homeDirectory ?? variables["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        self.workingDirectory = workingDirectory ?? FileManager.default.currentDirectoryPath
        self.serviceAccountDirectory = serviceAccountDirectory
    }

    /// This process's environment.
    public static var current: ConfigurationEnvironment {
        ConfigurationEnvironment(variables: ProcessInfo.processInfo.environment)
    }

    /// `path` made absolute against the working directory.
    func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return KubeconfigParser.resolve(path, relativeTo: workingDirectory)
    }
}
