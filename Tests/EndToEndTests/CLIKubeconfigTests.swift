import Foundation
import TestSupport
import Testing

/// The CLI's kubeconfig handling as a user meets it: listing contexts, and clear errors for
/// bad files and unreachable clusters.
@Suite struct CLIKubeconfigTests {
    static let kubeconfig = """
        apiVersion: v1
        kind: Config
        current-context: dev
        clusters:
        - name: c1
          cluster: {server: "https://127.0.0.1:1"}
        users:
        - name: u1
          user: {token: abc}
        contexts:
        - name: dev
          context: {cluster: c1, user: u1, namespace: team-a}
        - name: prod
          context: {cluster: c1, user: u1}
        """

    @Test func listContextsMarksTheCurrentOne() async throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write("config", Self.kubeconfig)
        let result = try await CommandRunner.run("telepresence", ["list-contexts", "--kubeconfig", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("CURRENT") == true)
        #expect(lines.contains { $0.hasPrefix("*") && $0.contains("dev") && $0.contains("team-a") })
        #expect(lines.contains { !$0.hasPrefix("*") && $0.contains("prod") })
    }

    @Test func listContextsAsJSON() async throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write("config", Self.kubeconfig)
        let result = try await CommandRunner.run(
            "telepresence", ["list-contexts", "--kubeconfig", file.path, "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 2)
        #expect(rows?.first { $0["name"] as? String == "dev" }?["current"] as? Bool == true)
    }

    @Test func malformedKubeconfigNamesTheFileAndField() async throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write("bad", """
            apiVersion: v1
            kind: Config
            users:
            - name: u
              user: {client-key-data: "%%%not-base64"}
            """)
        let result = try await CommandRunner.run("telepresence", ["list-namespaces", "--kubeconfig", file.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains(file.path))
        #expect(result.stderr.contains("client-key-data"))
    }

    @Test func missingKubeconfigIsAnError() async throws {
        let result = try await CommandRunner.run(
            "telepresence", ["list-namespaces", "--kubeconfig", "/nonexistent/kubeconfig"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/nonexistent/kubeconfig"))
    }

    @Test func unreachableClusterSaysWhatToCheck() async throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write("config", Self.kubeconfig)
        let result = try await CommandRunner.run(
            "telepresence", ["list-namespaces", "--kubeconfig", file.path, "--request-timeout", "5s"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("127.0.0.1:1"), "\(result.stderr)")
        #expect(result.stderr.lowercased().contains("refused"), "\(result.stderr)")
    }

    @Test func unknownFlagIsRejectedWithUsage() async throws {
        let result = try await CommandRunner.run("telepresence", ["list-namespaces", "--no-such-flag"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--no-such-flag"))
    }
}
