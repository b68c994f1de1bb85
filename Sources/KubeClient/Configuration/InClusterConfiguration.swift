import Foundation

/// The configuration of a process running in a pod: the API server from
/// `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`, and the mounted service-account token
/// (re-read every minute and after a 401, since projected tokens rotate), CA and namespace.
extension ClientConfigurationLoader {
    /// How often the in-cluster token file is re-read, like client-go.
    public static let inClusterTokenRecheckInterval: Duration = .seconds(60)

    /// True when this looks like a pod: the service variables are set and a token is mounted.
    public static func inClusterAvailable(environment: ConfigurationEnvironment = .current) -> Bool {
        nonEmpty(environment.variables["KUBERNETES_SERVICE_HOST"]) != nil
            && nonEmpty(environment.variables["KUBERNETES_SERVICE_PORT"]) != nil
            && FileManager.default.fileExists(atPath: environment.serviceAccountDirectory + "/token")
    }

    /// The in-cluster configuration. The namespace is `POD_NAMESPACE`, else the mounted
    /// `namespace` file, else `default`.
    public static func inCluster(environment: ConfigurationEnvironment = .current) throws -> ClientConfiguration {
        guard let host = nonEmpty(environment.variables["KUBERNETES_SERVICE_HOST"]),
              let portText = nonEmpty(environment.variables["KUBERNETES_SERVICE_PORT"])
        else {
            throw ConfigurationError.notInCluster(
                reason: "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; run inside a pod or use a kubeconfig")
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ConfigurationError.notInCluster(reason: "KUBERNETES_SERVICE_PORT=\(portText) is not a port number")
        }
        // ServerAddress keeps IPv6 literals without brackets and adds them when printed.
        var bareHost = host
        if bareHost.hasPrefix("["), bareHost.hasSuffix("]") { bareHost = String(bareHost.dropFirst().dropLast()) }
        let server = ServerAddress(scheme: .https, host: bareHost, port: port)

        let directory = environment.serviceAccountDirectory
        let credentials: TokenFileCredentials
        do {
            credentials = try TokenFileCredentials(path: directory + "/token", recheckInterval: inClusterTokenRecheckInterval)
        } catch let error as CredentialError {
            throw ConfigurationError.notInCluster(reason: "\(error)")
        }
        // Like client-go, a missing CA file means the system roots are used.
        let ca = FileManager.default.contents(atPath: directory + "/ca.crt").map(Array.init)
        let namespace = nonEmpty(environment.variables["POD_NAMESPACE"])
            ?? FileManager.default.contents(atPath: directory + "/namespace")
                .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
                .flatMap(nonEmpty)
            ?? "default"
        return ClientConfiguration(
            server: server,
            tls: TLSSettings(certificateAuthorityPEM: ca),
            credentials: credentials,
            namespace: namespace)
    }
}
