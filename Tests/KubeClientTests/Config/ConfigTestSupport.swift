import Foundation
@testable import KubeClient

/// A temporary directory for kubeconfig fixtures, removed when the owning test suite instance
/// goes away (also when the test fails).
final class ScratchDirectory: @unchecked Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("kubeclient-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `contents` to `name` (subdirectories are created) and returns the absolute path.
    @discardableResult
    func write(_ name: String, _ contents: String, executable: Bool = false) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        if executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
        }
        return file
    }

    func read(_ name: String) -> String? {
        FileManager.default.contents(atPath: path + "/" + name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// An environment whose home is this directory and that has no KUBECONFIG unless given.
    func environment(
        kubeconfig: String? = nil, extra: [String: String] = [:], serviceAccountDirectory: String? = nil
    ) -> ConfigurationEnvironment {
        var variables = ["HOME": path, "PATH": "/usr/bin:/bin"]
        if let kubeconfig { variables["KUBECONFIG"] = kubeconfig }
        variables.merge(extra) { _, new in new }
        return ConfigurationEnvironment(
            variables: variables, homeDirectory: path, workingDirectory: path,
            serviceAccountDirectory: serviceAccountDirectory ?? path + "/no-service-account")
    }
}

func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

/// The description of the error `body` throws, or nil when it does not throw.
func errorText(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

/// A minimal single-cluster kubeconfig, with `user` spliced in as the user's YAML fields.
func kubeconfigYAML(
    server: String = "https://127.0.0.1:6443", clusterExtra: String = "", user: String = "token: abc",
    namespace: String? = nil
) -> String {
    """
    apiVersion: v1
    kind: Config
    clusters:
    - name: c
      cluster:
        server: \(server)
    \(clusterExtra.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
    users:
    - name: u
      user:
    \(user.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
    contexts:
    - name: ctx
      context:
        cluster: c
        user: u
    \(namespace.map { "    namespace: \($0)" } ?? "")
    current-context: ctx

    """
}
