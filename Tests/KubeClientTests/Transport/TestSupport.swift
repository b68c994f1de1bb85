import Foundation
import KubeClient
import Synchronization

/// Runs `body` against a fresh test API server and shuts the server down afterwards, also when
/// the body throws.
func withTestServer<R>(
    _ options: TestAPIServer.Options = TestAPIServer.Options(), _ body: (TestAPIServer) async throws -> R
) async throws -> R {
    let server = try await TestAPIServer(options: options)
    do {
        let result = try await body(server)
        await server.shutdown()
        return result
    } catch {
        await server.shutdown()
        throw error
    }
}

/// A configuration for `server` that trusts the test CA.
func configuration(
    for server: TestAPIServer, tls: TLSSettings? = nil, credentials: any CredentialSource = NoCredentials(),
    requestTimeout: Duration? = .seconds(10)
) -> ClientConfiguration {
    ClientConfiguration(
        server: server.address, tls: tls ?? TLSSettings(certificateAuthorityPEM: TestPKI.shared.caPEM),
        credentials: credentials, namespace: "default", requestTimeout: requestTimeout, contextName: "test")
}

/// A fixed bearer token.
struct StaticToken: CredentialSource {
    let token: String
    func credentials() async throws -> RequestCredentials { RequestCredentials(authorization: "Bearer \(token)") }
    func refreshAfterUnauthorized() async throws -> Bool { false }
}

/// Hands out `old` until asked to refresh after a 401, then `new`; counts the refreshes.
final class RotatingToken: CredentialSource {
    let state = Mutex((token: "old", refreshes: 0))
    func credentials() async throws -> RequestCredentials {
        RequestCredentials(authorization: "Bearer \(state.withLock { $0.token })")
    }
    func refreshAfterUnauthorized() async throws -> Bool {
        state.withLock { $0.token = "new"; $0.refreshes += 1 }
        return true
    }
    var refreshes: Int { state.withLock { $0.refreshes } }
}

/// A small typed model, standing in for the Models module's types.
struct TestConfigMap: Codable, Sendable, Equatable {
    struct Metadata: Codable, Sendable, Equatable {
        var name: String
        var namespace: String?
        var resourceVersion: String?
        var labels: [String: String]?
    }
    var apiVersion = "v1"
    var kind = "ConfigMap"
    var metadata: Metadata
    var data: [String: String]?

    init(name: String, labels: [String: String]? = nil, data: [String: String]? = nil) {
        metadata = Metadata(name: name, labels: labels)
        self.data = data
    }
}

/// Runs `body`, expecting a `KubeError`; returns it (or fails the caller by throwing).
func expectKubeError(_ body: () async throws -> Void) async throws -> KubeError {
    do {
        try await body()
    } catch let error as KubeError {
        return error
    }
    throw TestFailure("expected a KubeError, but the call succeeded")
}
