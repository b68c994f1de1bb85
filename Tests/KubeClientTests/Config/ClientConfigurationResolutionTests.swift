import Foundation
import PKI
import Testing
@testable import KubeClient

@Suite final class ClientConfigurationResolutionTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    /// Writes `yaml` as the only kubeconfig and resolves it with `overrides`.
    private func resolve(_ yaml: String, _ overrides: ConfigurationOverrides = ConfigurationOverrides()) throws
        -> ClientConfiguration
    {
        let file = try scratch.write("config", yaml)
        return try ClientConfigurationLoader.load(overrides: overrides, environment: scratch.environment(kubeconfig: file))
    }

    private func resolveError(_ yaml: String, _ overrides: ConfigurationOverrides = ConfigurationOverrides()) -> String? {
        errorText({ _ = try resolve(yaml, overrides) })
    }

    private var configPath: String { scratch.path + "/config" }

    // MARK: Context, namespace, names

    @Test func namespaceComesFromContextElseDefaultElseFlag() throws {
        #expect(try resolve(kubeconfigYAML(namespace: "team-a")).namespace == "team-a")
        #expect(try resolve(kubeconfigYAML()).namespace == "default")
        #expect(try resolve(kubeconfigYAML(namespace: "team-a"), ConfigurationOverrides(namespace: "other")).namespace == "other")
    }

    @Test func contextFlagSelectsAnotherContext() async throws {
        let file = """
            clusters:
            - name: c
              cluster: {server: https://one:1}
            - name: d
              cluster: {server: https://two:2}
            users:
            - name: u
              user: {token: a}
            - name: v
              user: {token: b}
            contexts:
            - name: ctx
              context: {cluster: c, user: u}
            - name: second
              context: {cluster: d, user: v, namespace: second-ns}
            current-context: ctx
            """
        let configuration = try resolve(file, ConfigurationOverrides(context: "second"))
        #expect(configuration.contextName == "second")
        #expect(configuration.server.host == "two")
        #expect(configuration.namespace == "second-ns")
        #expect(try await configuration.credentials.credentials().authorization == "Bearer b")
    }

    @Test func clusterAndUserFlagsPickOtherEntries() async throws {
        let file = """
            clusters:
            - name: c
              cluster: {server: https://one:1}
            - name: d
              cluster: {server: https://two:2}
            users:
            - name: u
              user: {token: a}
            - name: v
              user: {token: b}
            contexts:
            - name: ctx
              context: {cluster: c, user: u, namespace: keep}
            current-context: ctx
            """
        let configuration = try resolve(file, ConfigurationOverrides(cluster: "d", user: "v"))
        #expect(configuration.server.host == "two")
        #expect(configuration.namespace == "keep")
        #expect(try await configuration.credentials.credentials().authorization == "Bearer b")
        #expect(resolveError(file, ConfigurationOverrides(cluster: "nope"))?
            .hasPrefix("--cluster: cluster \"nope\" is not defined in any kubeconfig") == true)
        #expect(resolveError(file, ConfigurationOverrides(user: "nope"))?
            .hasPrefix("--user: user \"nope\" is not defined in any kubeconfig") == true)
        #expect(resolveError(file, ConfigurationOverrides(context: "nope"))?
            .hasPrefix("--context: context \"nope\" is not defined in any kubeconfig") == true)
    }

    @Test func undefinedNamesInTheFileNameFileAndField() {
        let yaml = """
            clusters:
            - name: c
              cluster: {server: https://one:1}
            contexts:
            - name: ctx
              context: {cluster: x, user: u}
            current-context: ctx
            """
        #expect(resolveError(yaml)?.hasPrefix(
            "\(configPath): contexts[0].context.cluster: cluster \"x\" is not defined in any kubeconfig") == true)
        let missingUser = yaml.replacingOccurrences(of: "cluster: x", with: "cluster: c")
        #expect(resolveError(missingUser)?.hasPrefix(
            "\(configPath): contexts[0].context.user: user \"u\" is not defined in any kubeconfig") == true)
        #expect(resolveError("current-context: gone\n")?.hasPrefix(
            "\(configPath): current-context: context \"gone\" is not defined in any kubeconfig") == true)
    }

    @Test func noCurrentContextIsAClearError() {
        let yaml = "clusters:\n- name: c\n  cluster: {server: https://one:1}\n"
        #expect(resolveError(yaml) == "no current context is set in \(configPath); "
            + "pass --context or run `kubectl config use-context NAME`")
    }

    @Test func missingServerNamesTheCluster() {
        #expect(resolveError(kubeconfigYAML(server: "\"\""))
            == "\(configPath): clusters[0].cluster.server is not set for cluster \"c\"; set it or pass --server")
        #expect(resolveError(kubeconfigYAML(server: "ftp://x"))?
            .hasPrefix("\(configPath): clusters[0].cluster.server is not a server URL (ftp://x)") == true)
    }

    // MARK: Server and TLS overrides

    @Test func serverFlagReplacesServerAndItsTLSServerName() throws {
        let yaml = kubeconfigYAML(clusterExtra: "tls-server-name: from-file")
        #expect(try resolve(yaml).tls.serverName == "from-file")
        let overridden = try resolve(yaml, ConfigurationOverrides(server: "https://[fd00::1]:7443/prefix"))
        #expect(overridden.server == ServerAddress(scheme: .https, host: "fd00::1", port: 7443, basePath: "/prefix"))
        #expect(overridden.tls.serverName == nil)
        let both = try resolve(yaml, ConfigurationOverrides(server: "https://x:1", tlsServerName: "flag-name"))
        #expect(both.tls.serverName == "flag-name")
        #expect(try resolve(yaml, ConfigurationOverrides(tlsServerName: "only-flag")).tls.serverName == "only-flag")
        #expect(resolveError(yaml, ConfigurationOverrides(server: "ftp://x"))
            == "--server=ftp://x: not a server URL; use https://HOST:PORT")
    }

    @Test func serverFlagWorksWithoutAnyKubeconfig() throws {
        let configuration = try ClientConfigurationLoader.load(
            overrides: ConfigurationOverrides(server: "https://10.0.0.1:6443", token: "flag-token"),
            environment: scratch.environment())
        #expect(configuration.server.host == "10.0.0.1")
        #expect(configuration.namespace == "default")
        #expect(configuration.contextName == nil)
        #expect(configuration.credentials is BearerTokenCredentials)
    }

    @Test func certificateAuthorityFromFileDataAndFlag() throws {
        let authority = try CertificateAuthority(commonName: "test-ca")
        let caPEM = try authority.certificatePEM
        let other = try CertificateAuthority(commonName: "flag-ca")
        try scratch.write("pki/ca.crt", caPEM)
        try scratch.write("flag-ca.crt", try other.certificatePEM)

        let fromFile = try resolve(kubeconfigYAML(clusterExtra: "certificate-authority: pki/ca.crt"))
        #expect(fromFile.tls.certificateAuthorityPEM == Array(caPEM.utf8))
        #expect(!fromFile.tls.insecureSkipVerify)

        let fromData = try resolve(kubeconfigYAML(clusterExtra: "certificate-authority-data: \(base64(caPEM))"))
        #expect(fromData.tls.certificateAuthorityPEM == Array(caPEM.utf8))

        // --certificate-authority replaces the data (relative to the working directory).
        let flagged = try resolve(
            kubeconfigYAML(clusterExtra: "certificate-authority-data: \(base64(caPEM))"),
            ConfigurationOverrides(certificateAuthority: "flag-ca.crt"))
        #expect(flagged.tls.certificateAuthorityPEM == Array(try other.certificatePEM.utf8))

        #expect(resolveError(kubeconfigYAML(clusterExtra: "certificate-authority: pki/missing.crt"))
            == "\(configPath): clusters[0].cluster.certificate-authority names \(scratch.path)/pki/missing.crt, "
            + "which does not exist; fix the path")
        #expect(resolveError(kubeconfigYAML(clusterExtra: "certificate-authority-data: \(base64("hello"))"))?
            .hasPrefix("\(configPath): clusters[0].cluster.certificate-authority-data does not hold a PEM certificate") == true)
    }

    @Test func insecureSkipTLSVerifyDropsTheCertificateAuthority() throws {
        let caPEM = try CertificateAuthority(commonName: "ca").certificatePEM
        let yaml = kubeconfigYAML(clusterExtra: "certificate-authority-data: \(base64(caPEM))")
        let configuration = try resolve(yaml, ConfigurationOverrides(insecureSkipTLSVerify: true))
        #expect(configuration.tls.insecureSkipVerify)
        #expect(configuration.tls.certificateAuthorityPEM == nil)

        // In the file itself, both at once is a mistake, as client-go says.
        let conflicting = kubeconfigYAML(
            clusterExtra: "certificate-authority-data: \(base64(caPEM))\ninsecure-skip-tls-verify: true")
        #expect(resolveError(conflicting) == "\(configPath): clusters[0].cluster: "
            + "certificate-authority and insecure-skip-tls-verify are both set; remove one of them")
        // --certificate-authority turns insecure off.
        try scratch.write("ca.crt", caPEM)
        let secured = try resolve(
            kubeconfigYAML(clusterExtra: "insecure-skip-tls-verify: true"),
            ConfigurationOverrides(certificateAuthority: "ca.crt"))
        #expect(!secured.tls.insecureSkipVerify)
        #expect(secured.tls.certificateAuthorityPEM == Array(caPEM.utf8))
    }

    @Test func clientCertificateFromFilesAndData() throws {
        let authority = try CertificateAuthority(commonName: "ca")
        let client = try authority.issueClientCertificate(commonName: "alice", organizations: ["devs"])
        try scratch.write("client.crt", client.certificatePEM)
        try scratch.write("keys/client.key", client.privateKeyPEM)
        let expected = ClientCertificate(
            certificatePEM: Array(client.certificatePEM.utf8), privateKeyPEM: Array(client.privateKeyPEM.utf8))

        let fromFiles = try resolve(kubeconfigYAML(user: "client-certificate: client.crt\nclient-key: keys/client.key"))
        #expect(fromFiles.tls.clientCertificate == expected)
        #expect(fromFiles.credentials is NoCredentials)

        let fromData = try resolve(kubeconfigYAML(
            user: "client-certificate-data: \(base64(client.certificatePEM))\nclient-key-data: \(base64(client.privateKeyPEM))"))
        #expect(fromData.tls.clientCertificate == expected)

        #expect(resolveError(kubeconfigYAML(user: "client-certificate: client.crt"))
            == "\(configPath): users[0].user.client-certificate is set without client-key; set both or neither")
        #expect(resolveError(kubeconfigYAML(user: "client-certificate: client.crt\nclient-key: client.crt"))?
            .hasPrefix("\(configPath): users[0].user.client-key names \(scratch.path)/client.crt, which holds no PEM private key")
            == true)
    }

    // MARK: Credentials

    @Test func tokenAndBasicAuthTogetherAreRejected() {
        #expect(resolveError(kubeconfigYAML(user: "token: t\nusername: a\npassword: b"))
            == "\(configPath): users[0].user: both a token and username/password are set, "
            + "but only one authentication method is allowed; remove one")
    }

    @Test func eachAuthMethodPicksItsCredentialSource() async throws {
        let bearer = try resolve(kubeconfigYAML(user: "token: abc"))
        #expect(try await bearer.credentials.credentials() == RequestCredentials(authorization: "Bearer abc"))

        let basic = try resolve(kubeconfigYAML(user: "username: alice\npassword: s3cret"))
        #expect(try await basic.credentials.credentials().authorization == "Basic YWxpY2U6czNjcmV0")

        try scratch.write("tokens/t", "file-token\n")
        let fromFile = try resolve(kubeconfigYAML(user: "tokenFile: tokens/t"))
        #expect(try await fromFile.credentials.credentials().authorization == "Bearer file-token")
        #expect((fromFile.credentials as? TokenFileCredentials)?.path == scratch.path + "/tokens/t")
        #expect(resolveError(kubeconfigYAML(user: "tokenFile: tokens/none"))
            == "\(configPath): users[0].user.tokenFile names \(scratch.path)/tokens/none, but it does not exist; "
            + "fix the path or write the token there")

        let exec = try resolve(kubeconfigYAML(user: "exec: {apiVersion: client.authentication.k8s.io/v1, command: ./p.sh}"))
        let source = try #require(exec.credentials as? ExecCredentialSource)
        #expect(source.plugin.command == scratch.path + "/p.sh")

        #expect(try resolve(kubeconfigYAML(user: "{}")).credentials is NoCredentials)
    }

    @Test func tokenFlagReplacesTheUsersAuthentication() async throws {
        let configuration = try resolve(
            kubeconfigYAML(user: "username: alice\npassword: pw"), ConfigurationOverrides(token: "flag"))
        #expect(try await configuration.credentials.credentials().authorization == "Bearer flag")
        let execUser = try resolve(
            kubeconfigYAML(user: "exec: {apiVersion: client.authentication.k8s.io/v1, command: nope}"),
            ConfigurationOverrides(token: "flag"))
        #expect(execUser.credentials is BearerTokenCredentials)
    }

    @Test func authProviderIsReportedAsUnsupported() {
        #expect(resolveError(kubeconfigYAML(user: "auth-provider: {name: gcp, config: {cmd-path: gcloud}}"))
            == "\(configPath): users[0].user.auth-provider: the legacy auth-provider \"gcp\" is not supported; "
            + "configure the user with an exec credential plugin instead (for example kubelogin or gke-gcloud-auth-plugin)")
    }

    @Test func impersonationFromUserAndFlags() throws {
        let yaml = kubeconfigYAML(user: "token: t\nas: bob\nas-uid: \"42\"\nas-groups: [a, b]\nas-user-extra: {scopes: [x]}")
        #expect(try resolve(yaml).impersonation
            == Impersonation(user: "bob", uid: "42", groups: ["a", "b"], extra: ["scopes": ["x"]]))
        let flagged = try resolve(yaml, ConfigurationOverrides(impersonateUser: "carol", impersonateGroups: ["c"]))
        #expect(flagged.impersonation == Impersonation(user: "carol", uid: "42", groups: ["c"], extra: ["scopes": ["x"]]))
        #expect(try resolve(kubeconfigYAML()).impersonation == nil)
    }

    // MARK: Proxy, compression, timeout

    @Test func proxyURLIsParsed() throws {
        let plain = try resolve(kubeconfigYAML(clusterExtra: "proxy-url: http://proxy.local:3128"))
        #expect(plain.proxy == ProxyAddress(host: "proxy.local", port: 3128))
        let withUser = try resolve(kubeconfigYAML(clusterExtra: "proxy-url: http://al%40ice:p%3Ass@[::1]"))
        #expect(withUser.proxy == ProxyAddress(host: "::1", port: 80, basicCredentials: "al@ice:p:ss"))
        #expect(try resolve(kubeconfigYAML()).proxy == nil)
        #expect(resolveError(kubeconfigYAML(clusterExtra: "proxy-url: socks5://127.0.0.1:1080"))
            == "\(configPath): clusters[0].cluster.proxy-url: a socks5 proxy (socks5://127.0.0.1:1080) is not supported; "
            + "use an http:// proxy that supports CONNECT")
        #expect(resolveError(kubeconfigYAML(clusterExtra: "proxy-url: https://proxy:443"))?
            .contains("a https proxy") == true)
        #expect(resolveError(kubeconfigYAML(clusterExtra: "proxy-url: \"http://\""))?
            .contains("clusters[0].cluster.proxy-url is not a proxy URL") == true)
    }

    @Test func disableCompressionIsCarried() throws {
        #expect(try resolve(kubeconfigYAML(clusterExtra: "disable-compression: true")).disableCompression)
        #expect(try !resolve(kubeconfigYAML()).disableCompression)
    }

    @Test func requestTimeoutFlag() throws {
        #expect(try resolve(kubeconfigYAML()).requestTimeout == nil)
        #expect(try resolve(kubeconfigYAML(), ConfigurationOverrides(requestTimeout: "45s")).requestTimeout == .seconds(45))
        #expect(resolveError(kubeconfigYAML(), ConfigurationOverrides(requestTimeout: "soon"))?
            .hasPrefix("--request-timeout=soon: not a duration") == true)
    }
}

@Suite struct RequestTimeoutTests {
    @Test func parsesKubectlSyntax() throws {
        #expect(try RequestTimeout.parse("0") == nil)
        #expect(try RequestTimeout.parse("0s") == nil)
        #expect(try RequestTimeout.parse("30") == .seconds(30))
        #expect(try RequestTimeout.parse("30s") == .seconds(30))
        #expect(try RequestTimeout.parse("1m") == .seconds(60))
        #expect(try RequestTimeout.parse("2h") == .seconds(7200))
        #expect(try RequestTimeout.parse("1h30m") == .seconds(5400))
        #expect(try RequestTimeout.parse("1.5s") == .milliseconds(1500))
        #expect(try RequestTimeout.parse("250ms") == .milliseconds(250))
    }

    @Test func rejectsGarbageAndNegatives() {
        #expect(throws: ConfigurationError.self) { try RequestTimeout.parse("") }
        #expect(throws: ConfigurationError.self) { try RequestTimeout.parse("5 minutes") }
        #expect(throws: ConfigurationError.self) { try RequestTimeout.parse("1x") }
        #expect(throws: ConfigurationError.self) { try RequestTimeout.parse("-5") }
        #expect(throws: ConfigurationError.self) { try RequestTimeout.parse("-1s") }
    }
}
