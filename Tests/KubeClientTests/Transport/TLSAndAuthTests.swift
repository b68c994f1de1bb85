import Foundation
import KubeClient
import NIOCore
import Testing

@Suite struct TLSAndAuthTests {
    @Test func trustsTheServerWithTheRightCA() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let list = try await client.list(.configMaps, as: JSONValue.self)
            #expect(list.items.isEmpty)
        }
    }

    @Test func rejectsTheServerWithTheWrongCAAndSaysHowToFixIt() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(
                for: server, tls: TLSSettings(certificateAuthorityPEM: TestPKI.shared.otherCAPEM)))
            let error = try await expectKubeError { _ = try await client.list(.configMaps, as: JSONValue.self) }
            guard case .certificateNotTrusted = error else { throw TestFailure("unexpected \(error)") }
            #expect(error.description.contains("the API server's certificate is not trusted"))
            #expect(error.description.contains("certificate-authority"))
            #expect(error.description.contains("--insecure-skip-tls-verify"))
        }
    }

    @Test func insecureSkipVerifyAcceptsAnyCertificate() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server, tls: TLSSettings(insecureSkipVerify: true)))
            _ = try await client.list(.configMaps, as: JSONValue.self)
        }
    }

    @Test func tlsServerNameIsSentAndVerifiedWhileConnectingToTheIP() async throws {
        var options = TestAPIServer.Options()
        options.certificate = TestPKI.shared.serverOnlyInternalName
        try await withTestServer(options) { server in
            let withoutName = KubeClient(configuration: configuration(for: server))
            let error = try await expectKubeError { _ = try await withoutName.list(.configMaps, as: JSONValue.self) }
            #expect(error.description.contains("tls-server-name"), "\(error)")

            let withName = KubeClient(configuration: configuration(
                for: server, tls: TLSSettings(certificateAuthorityPEM: TestPKI.shared.caPEM, serverName: "kube.internal")))
            _ = try await withName.list(.configMaps, as: JSONValue.self)
        }
    }

    @Test func clientCertificateIsAcceptedAndAForeignOneRejected() async throws {
        var options = TestAPIServer.Options()
        options.requireClientCertificate = true
        try await withTestServer(options) { server in
            let good = KubeClient(configuration: configuration(for: server, tls: TLSSettings(
                certificateAuthorityPEM: TestPKI.shared.caPEM,
                clientCertificate: TestPKI.clientCertificate(TestPKI.shared.client))))
            _ = try await good.list(.configMaps, as: JSONValue.self)

            let foreign = KubeClient(configuration: configuration(for: server, tls: TLSSettings(
                certificateAuthorityPEM: TestPKI.shared.caPEM,
                clientCertificate: TestPKI.clientCertificate(TestPKI.shared.clientFromOtherCA))))
            let error = try await expectKubeError { _ = try await foreign.list(.configMaps, as: JSONValue.self) }
            #expect(error.description.contains("client-certificate"), "\(error)")
        }
    }

    @Test func clientCertificateFromTheCredentialSourceIsUsed() async throws {
        struct PluginCertificate: CredentialSource {
            func credentials() async throws -> RequestCredentials {
                RequestCredentials(clientCertificate: TestPKI.clientCertificate(TestPKI.shared.client))
            }
            func refreshAfterUnauthorized() async throws -> Bool { false }
        }
        var options = TestAPIServer.Options()
        options.requireClientCertificate = true
        try await withTestServer(options) { server in
            let client = KubeClient(configuration: configuration(for: server, credentials: PluginCertificate()))
            _ = try await client.list(.configMaps, as: JSONValue.self)
        }
    }

    @Test func bearerTokenIsSentAndAWrongOneExplained() async throws {
        var options = TestAPIServer.Options()
        options.tokens = ["secret"]
        try await withTestServer(options) { server in
            let good = KubeClient(configuration: configuration(for: server, credentials: StaticToken(token: "secret")))
            _ = try await good.list(.configMaps, as: JSONValue.self)
            #expect(server.requests.last?.header("Authorization") == "Bearer secret")

            let bad = KubeClient(configuration: configuration(for: server, credentials: StaticToken(token: "wrong")))
            let error = try await expectKubeError { _ = try await bad.list(.configMaps, as: JSONValue.self) }
            #expect(error.isUnauthorized)
            #expect(error.description.hasPrefix("the API server at https://127.0.0.1:\(server.port) rejected the credentials of context \"test\""))
        }
    }

    @Test func unauthorizedRefreshesTheCredentialsAndRetriesOnce() async throws {
        var options = TestAPIServer.Options()
        options.tokens = ["new"]
        try await withTestServer(options) { server in
            let source = RotatingToken()
            let client = KubeClient(configuration: configuration(for: server, credentials: source))
            _ = try await client.list(.configMaps, as: JSONValue.self)
            #expect(source.refreshes == 1)
            #expect(server.requests.map { $0.header("Authorization") } == ["Bearer old", "Bearer new"])
        }
    }

    @Test func credentialsAreNeverSentOverPlainHTTP() async throws {
        var options = TestAPIServer.Options()
        options.https = false
        try await withTestServer(options) { server in
            let client = KubeClient(configuration: configuration(for: server, credentials: StaticToken(token: "secret")))
            _ = try await client.list(.configMaps, as: JSONValue.self)
            #expect(server.requests.count == 1)
            #expect(server.requests[0].header("Authorization") == nil)
        }
    }

    @Test func impersonationAndClientHeadersAreSent() async throws {
        try await withTestServer { server in
            var config = configuration(for: server)
            config.impersonation = Impersonation(user: "jane", uid: "42", groups: ["a", "b"], extra: ["scopes": ["view"]])
            config.userAgent = "telepresence-test/1.0"
            _ = try await KubeClient(configuration: config).list(.configMaps, as: JSONValue.self)
            let request = try #require(server.requests.first)
            #expect(request.header("Impersonate-User") == "jane")
            #expect(request.header("Impersonate-Uid") == "42")
            #expect(request.headers.filter { $0.0 == "Impersonate-Group" }.map(\.1) == ["a", "b"])
            #expect(request.header("Impersonate-Extra-scopes") == "view")
            #expect(request.header("User-Agent") == "telepresence-test/1.0")
            #expect(request.header("Accept") == "application/json")
        }
    }

    @Test func connectionRefusedSaysTheClusterIsNotReachable() async throws {
        // Bind and close a server to learn a port nobody listens on.
        let port = try await withTestServer { $0.port }
        let client = KubeClient(configuration: ClientConfiguration(
            server: ServerAddress(scheme: .https, host: "127.0.0.1", port: port)))
        let error = try await expectKubeError { _ = try await client.list(.pods, as: JSONValue.self) }
        #expect(error.description == "cannot reach the API server at https://127.0.0.1:\(port) (connection refused); check that the cluster is running and that --server/--context are right")
    }

    @Test func connectsThroughTheHTTPConnectProxy() async throws {
        let proxy = try await ConnectProxy()
        do {
            try await throughProxy(proxy)
        } catch {
            await proxy.shutdown()
            throw error
        }
        await proxy.shutdown()
    }

    private func throughProxy(_ proxy: ConnectProxy) async throws {
        try await withTestServer { server in
            var config = configuration(for: server, credentials: StaticToken(token: "t"))
            config.proxy = ProxyAddress(host: "127.0.0.1", port: proxy.port, basicCredentials: "user:pass")
            _ = try await KubeClient(configuration: config).list(.configMaps, as: JSONValue.self)
            #expect(proxy.seen.first == "CONNECT 127.0.0.1:\(server.port) HTTP/1.1")
            #expect(proxy.seen.contains("Proxy-Authorization: Basic dXNlcjpwYXNz"))
            #expect(server.requests.count == 1)
        }
    }
}
