import Foundation

/// Makes a `ClientConfiguration` the way kubectl does: read and merge the kubeconfig files,
/// pick the context, apply the command-line overrides, load the TLS material and choose the
/// credential source. Without any kubeconfig, inside a pod, it falls back to the in-cluster
/// configuration, as client-go does.
public enum ClientConfigurationLoader {
    /// Loads the configuration for `overrides` from the files `environment` points at.
    public static func load(
        overrides: ConfigurationOverrides = ConfigurationOverrides(),
        environment: ConfigurationEnvironment = .current
    ) throws -> ClientConfiguration {
        let kubeconfig = try KubeconfigLoader.load(explicitFile: overrides.kubeconfig, environment: environment)
        if kubeconfig.isEmpty, overrides.kubeconfig == nil, overrides.server == nil,
           inClusterAvailable(environment: environment) {
            var configuration = try inCluster(environment: environment)
            try applyGeneralOverrides(overrides, to: &configuration)
            return configuration
        }
        return try resolve(kubeconfig, overrides: overrides, environment: environment)
    }

    /// Resolves an already loaded kubeconfig with `overrides`.
    public static func resolve(
        _ kubeconfig: Kubeconfig,
        overrides: ConfigurationOverrides = ConfigurationOverrides(),
        environment: ConfigurationEnvironment = .current
    ) throws -> ClientConfiguration {
        let context = try selectContext(kubeconfig, overrides: overrides)

        // The cluster: the context's (or --cluster), then the cluster flags.
        let clusterName = nonEmpty(overrides.cluster) ?? nonEmpty(context?.value.cluster)
        var clusterEntry: KubeconfigEntry<KubeconfigCluster>?
        if let clusterName {
            guard let entry = kubeconfig.cluster(named: clusterName) else {
                let referrer = overrides.cluster != nil ? "--cluster"
                    : "\(context!.file): \(context!.path).context.cluster"
                throw ConfigurationError.undefinedName(kind: "cluster", name: clusterName, referrer: referrer)
            }
            clusterEntry = entry
        }
        let cluster = try resolveCluster(clusterEntry, overrides: overrides, environment: environment)

        // The user: the context's (or --user), then the credential flags.
        let userName = nonEmpty(overrides.user) ?? nonEmpty(context?.value.user)
        var userEntry: KubeconfigEntry<KubeconfigUser>?
        if let userName {
            guard let entry = kubeconfig.user(named: userName) else {
                let referrer = overrides.user != nil ? "--user" : "\(context!.file): \(context!.path).context.user"
                throw ConfigurationError.undefinedName(kind: "user", name: userName, referrer: referrer)
            }
            userEntry = entry
        }
        let user = try resolveUser(userEntry, cluster: cluster, overrides: overrides, environment: environment)

        var tls = cluster.tls
        tls.clientCertificate = user.clientCertificate
        var configuration = ClientConfiguration(
            server: cluster.server,
            tls: tls,
            proxy: cluster.proxy,
            credentials: user.credentials,
            namespace: nonEmpty(context?.value.namespace) ?? "default",
            impersonation: user.impersonation,
            contextName: context?.name)
        configuration.disableCompression = cluster.disableCompression
        try applyGeneralOverrides(overrides, to: &configuration)
        return configuration
    }

    /// `--namespace`, `--request-timeout` and the impersonation flags, which apply to any
    /// configuration, in-cluster included.
    static func applyGeneralOverrides(_ overrides: ConfigurationOverrides, to configuration: inout ClientConfiguration) throws {
        if let namespace = nonEmpty(overrides.namespace) { configuration.namespace = namespace }
        if let timeout = overrides.requestTimeout { configuration.requestTimeout = try RequestTimeout.parse(timeout) }
        if overrides.impersonateUser != nil || overrides.impersonateUID != nil || overrides.impersonateGroups != nil {
            var impersonation = configuration.impersonation ?? Impersonation()
            if let user = overrides.impersonateUser { impersonation.user = user }
            if let uid = overrides.impersonateUID { impersonation.uid = uid }
            if let groups = overrides.impersonateGroups { impersonation.groups = groups }
            configuration.impersonation = impersonation
        }
    }

    // MARK: Context

    private static func selectContext(
        _ kubeconfig: Kubeconfig, overrides: ConfigurationOverrides
    ) throws -> KubeconfigEntry<KubeconfigContext>? {
        if let name = nonEmpty(overrides.context) {
            guard let context = kubeconfig.context(named: name) else {
                if kubeconfig.isEmpty { throw ConfigurationError.noConfiguration(searched: kubeconfig.searchedFiles) }
                throw ConfigurationError.undefinedName(kind: "context", name: name, referrer: "--context")
            }
            return context
        }
        if let name = nonEmpty(kubeconfig.currentContext) {
            guard let context = kubeconfig.context(named: name) else {
                let file = kubeconfig.currentContextFile ?? kubeconfig.files.first ?? "kubeconfig"
                throw ConfigurationError.undefinedName(kind: "context", name: name, referrer: "\(file): current-context")
            }
            return context
        }
        // No context: only flags can say where to go.
        if overrides.server != nil || overrides.cluster != nil { return nil }
        if kubeconfig.isEmpty { throw ConfigurationError.noConfiguration(searched: kubeconfig.searchedFiles) }
        throw ConfigurationError.noContext(files: kubeconfig.files)
    }

    // MARK: Cluster

    struct ResolvedCluster {
        var name: String?
        var server: ServerAddress
        var serverText: String
        var tls: TLSSettings
        var proxy: ProxyAddress?
        var proxyURL: String?
        var disableCompression: Bool
        var execConfig: JSONValue?
    }

    private static func resolveCluster(
        _ entry: KubeconfigEntry<KubeconfigCluster>?, overrides: ConfigurationOverrides,
        environment: ConfigurationEnvironment
    ) throws -> ResolvedCluster {
        var cluster = entry?.value ?? KubeconfigCluster()
        let file = entry?.file ?? "kubeconfig"
        let field = (entry?.path ?? "clusters[?]") + ".cluster"

        // kubectl: --insecure-skip-tls-verify or --certificate-authority replace the cluster's
        // whole trust setting; --server or --tls-server-name replace its tls-server-name.
        if let caPath = nonEmpty(overrides.certificateAuthority), overrides.insecureSkipTLSVerify == true {
            throw ConfigurationError.invalidOverride(
                flag: "--certificate-authority", value: caPath,
                problem: "cannot be combined with --insecure-skip-tls-verify; drop one of them")
        }
        if overrides.insecureSkipTLSVerify == true || nonEmpty(overrides.certificateAuthority) != nil {
            cluster.insecureSkipTLSVerify = overrides.insecureSkipTLSVerify ?? false
            cluster.certificateAuthority = nonEmpty(overrides.certificateAuthority).map(environment.absolute)
            cluster.certificateAuthorityData = nil
        }
        if overrides.server != nil || overrides.tlsServerName != nil {
            cluster.tlsServerName = nonEmpty(overrides.tlsServerName)
        }
        if let server = nonEmpty(overrides.server) { cluster.server = server }

        guard let serverText = nonEmpty(cluster.server) else {
            if let entry { throw ConfigurationError.missingServer(cluster: entry.name, file: file, field: field) }
            throw ConfigurationError.missingServer(cluster: "", file: nil, field: nil)
        }
        guard let server = ServerAddress(parsing: serverText) else {
            if nonEmpty(overrides.server) != nil {
                throw ConfigurationError.invalidOverride(
                    flag: "--server", value: serverText, problem: "not a server URL; use https://HOST:PORT")
            }
            throw ConfigurationError.invalidField(
                file: file, field: field + ".server", problem: "is not a server URL (\(serverText)); use https://HOST:PORT")
        }

        if cluster.insecureSkipTLSVerify && (cluster.certificateAuthorityData != nil || cluster.certificateAuthority != nil) {
            throw ConfigurationError.conflict(
                file: file, field: field,
                problem: "certificate-authority and insecure-skip-tls-verify are both set; remove one of them")
        }
        var tls = TLSSettings(insecureSkipVerify: cluster.insecureSkipTLSVerify, serverName: nonEmpty(cluster.tlsServerName))
        if let data = cluster.certificateAuthorityData {
            // The data wins over a path, as in client-go.
            guard PEMCheck.containsBlock(data, kind: "CERTIFICATE") else {
                throw ConfigurationError.invalidField(
                    file: file, field: field + ".certificate-authority-data",
                    problem: "does not hold a PEM certificate; it must be the base64 of a PEM file")
            }
            tls.certificateAuthorityPEM = data
        } else if let path = cluster.certificateAuthority {
            let fromFlag = nonEmpty(overrides.certificateAuthority) != nil
            let place = fromFlag ? ("command line", "--certificate-authority") : (file, field + ".certificate-authority")
            tls.certificateAuthorityPEM = try readPEM(path, kind: "CERTIFICATE", file: place.0, field: place.1)
        }

        var proxy: ProxyAddress?
        if let proxyURL = nonEmpty(cluster.proxyURL) {
            switch ProxyURLParser.parse(proxyURL) {
            case .success(let address):
                proxy = address
            case .failure(.unsupportedScheme(let scheme)):
                throw ConfigurationError.unsupported(
                    file: file, field: field + ".proxy-url", what: "a \(scheme) proxy (\(proxyURL))",
                    advice: "use an http:// proxy that supports CONNECT")
            case .failure(.malformed):
                throw ConfigurationError.invalidField(
                    file: file, field: field + ".proxy-url",
                    problem: "is not a proxy URL (\(proxyURL)); use http://HOST:PORT")
            }
        }
        return ResolvedCluster(
            name: entry?.name, server: server, serverText: serverText, tls: tls, proxy: proxy,
            proxyURL: nonEmpty(cluster.proxyURL), disableCompression: cluster.disableCompression,
            execConfig: cluster.extensions[KubeconfigCluster.execExtensionName])
    }

    // MARK: User

    struct ResolvedUser {
        var credentials: any CredentialSource
        var clientCertificate: ClientCertificate?
        var impersonation: Impersonation?
    }

    private static func resolveUser(
        _ entry: KubeconfigEntry<KubeconfigUser>?, cluster: ResolvedCluster, overrides: ConfigurationOverrides,
        environment: ConfigurationEnvironment
    ) throws -> ResolvedUser {
        var user = entry?.value ?? KubeconfigUser()
        let file = entry?.file ?? "kubeconfig"
        let field = (entry?.path ?? "users[?]") + ".user"

        if let token = nonEmpty(overrides.token) {
            // --token replaces every way the user would otherwise authenticate.
            user.token = token
            user.tokenFile = nil
            user.username = nil
            user.password = nil
            user.exec = nil
            user.authProvider = nil
        }
        if let provider = user.authProvider {
            throw ConfigurationError.unsupported(
                file: file, field: field + ".auth-provider", what: "the legacy auth-provider \"\(provider.name)\"",
                advice: "configure the user with an exec credential plugin instead (for example kubelogin or gke-gcloud-auth-plugin)")
        }
        let hasToken = nonEmpty(user.token) != nil || user.tokenFile != nil
        let hasBasic = nonEmpty(user.username) != nil || nonEmpty(user.password) != nil
        if hasToken && hasBasic {
            throw ConfigurationError.conflict(
                file: file, field: field,
                problem: "both a token and username/password are set, but only one authentication method is allowed; remove one")
        }

        let clientCertificate = try loadClientCertificate(user, file: file, field: field)

        let credentials: any CredentialSource
        if let token = nonEmpty(user.token) {
            credentials = BearerTokenCredentials(token: token)
        } else if let tokenFile = user.tokenFile {
            do {
                credentials = try TokenFileCredentials(path: tokenFile)
            } catch CredentialError.tokenFileUnreadable(_, let reason) {
                throw ConfigurationError.invalidField(
                    file: file, field: field + ".tokenFile",
                    problem: "names \(tokenFile), but \(reason); fix the path or write the token there")
            }
        } else if hasBasic {
            credentials = BasicAuthCredentials(username: user.username ?? "", password: user.password ?? "")
        } else if let exec = user.exec {
            let clusterInfo = ExecClusterInfo(
                server: cluster.serverText,
                tlsServerName: cluster.tls.serverName,
                insecureSkipTLSVerify: cluster.tls.insecureSkipVerify,
                certificateAuthorityData: cluster.tls.certificateAuthorityPEM,
                proxyURL: cluster.proxyURL,
                disableCompression: cluster.disableCompression,
                config: cluster.execConfig)
            credentials = ExecCredentialSource(plugin: exec, cluster: clusterInfo, environment: environment.variables)
        } else {
            credentials = NoCredentials()
        }

        var impersonation: Impersonation?
        if user.impersonate != nil || user.impersonateUID != nil || !user.impersonateGroups.isEmpty
            || !user.impersonateUserExtra.isEmpty {
            impersonation = Impersonation(
                user: user.impersonate, uid: user.impersonateUID, groups: user.impersonateGroups,
                extra: user.impersonateUserExtra)
        }
        return ResolvedUser(credentials: credentials, clientCertificate: clientCertificate, impersonation: impersonation)
    }

    private static func loadClientCertificate(_ user: KubeconfigUser, file: String, field: String) throws -> ClientCertificate? {
        var certificate = user.clientCertificateData
        var key = user.clientKeyData
        if let data = certificate {
            guard PEMCheck.containsBlock(data, kind: "CERTIFICATE") else {
                throw ConfigurationError.invalidField(
                    file: file, field: field + ".client-certificate-data",
                    problem: "does not hold a PEM certificate; it must be the base64 of a PEM file")
            }
        } else if let path = user.clientCertificate {
            certificate = try readPEM(path, kind: "CERTIFICATE", file: file, field: field + ".client-certificate")
        }
        if let data = key {
            guard PEMCheck.containsBlock(data, kind: "PRIVATE KEY") else {
                throw ConfigurationError.invalidField(
                    file: file, field: field + ".client-key-data",
                    problem: "does not hold a PEM private key; it must be the base64 of a PEM file")
            }
        } else if let path = user.clientKey {
            key = try readPEM(path, kind: "PRIVATE KEY", file: file, field: field + ".client-key")
        }
        switch (certificate, key) {
        case (nil, nil):
            return nil
        case (let certificate?, let key?):
            return ClientCertificate(certificatePEM: certificate, privateKeyPEM: key)
        case (nil, _):
            throw ConfigurationError.invalidField(
                file: file, field: field + ".client-key",
                problem: "is set without client-certificate; set both or neither")
        case (_, nil):
            throw ConfigurationError.invalidField(
                file: file, field: field + ".client-certificate",
                problem: "is set without client-key; set both or neither")
        }
    }

    // MARK: Helpers

    private static func readPEM(_ path: String, kind: String, file: String, field: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "is not readable" : "does not exist"
            throw ConfigurationError.invalidField(
                file: file, field: field, problem: "names \(path), which \(reason); fix the path")
        }
        let bytes = Array(data)
        guard PEMCheck.containsBlock(bytes, kind: kind) else {
            throw ConfigurationError.invalidField(
                file: file, field: field,
                problem: "names \(path), which holds no PEM \(kind.lowercased()); point it at a PEM file")
        }
        return bytes
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
