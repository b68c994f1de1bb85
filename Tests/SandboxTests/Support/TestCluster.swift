import Foundation
import Sandbox
import Testing

/// An in-process sandbox API server with a kubeconfig in a temp dir; removed after `body`,
/// whether it passes, fails or throws.
struct TestCluster {
    let server: APIServer
    let directory: URL
    let kubeconfig: URL

    static func with<T>(_ body: (TestCluster) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let server: APIServer
        do {
            server = try await APIServer.start()
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        let kubeconfig = directory.appendingPathComponent("kubeconfig")
        let cluster = TestCluster(server: server, directory: directory, kubeconfig: kubeconfig)
        do {
            try server.kubeconfig().write(to: kubeconfig, atomically: true, encoding: .utf8)
            let result = try await body(cluster)
            try await server.shutdown()
            try? FileManager.default.removeItem(at: directory)
            return result
        } catch {
            try? await server.shutdown()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// A kubectl of `version` for this cluster, or a recorded failure when it is missing.
    func kubectl(_ version: String, kubeconfig: URL? = nil) throws -> Kubectl {
        guard let binary = Kubectl.binary(version) else {
            Issue.record("kubectl.\(version) is missing beside the kubectl on PATH; install it (CI must have kubectl 1.27, 1.30 and 1.33)")
            throw MissingKubectl()
        }
        let cache = directory.appendingPathComponent("cache-\(version)-\(UUID().uuidString.prefix(8))")
        return Kubectl(binary: binary, kubeconfig: kubeconfig ?? self.kubeconfig, cacheDir: cache, version: version)
    }

    struct MissingKubectl: Error {}
}
