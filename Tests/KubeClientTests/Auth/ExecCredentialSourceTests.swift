import Foundation
import PKI
import TestSupport
import Testing
@testable import KubeClient

/// Exec plugins are small shell scripts written by each test. Every run appends a line to
/// `runs`, so tests count runs, and the token carries the run number.
@Suite final class ExecCredentialSourceTests {
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory()
    }

    private var runCount: Int {
        (scratch.read("runs") ?? "").split(separator: "\n").count
    }

    /// A plugin that records its input and prints `status` (a JSON object text, where
    /// `RUN` is replaced by the run number) under `apiVersion`.
    @discardableResult
    private func writePlugin(
        name: String = "plugin.sh", apiVersion: String = KubeconfigExec.v1,
        status: String = #"{"token":"tok-RUN"}"#
    ) throws -> String {
        let dir = scratch.path
        let output = #"{"apiVersion":"\#(apiVersion)","kind":"ExecCredential","status":\#(status)}"#
            .replacingOccurrences(of: "RUN", with: "$run")
        return try scratch.write(name, """
            #!/bin/sh
            echo run >> "\(dir)/runs"
            run=$(wc -l < "\(dir)/runs" | tr -d ' ')
            printf '%s' "$KUBERNETES_EXEC_INFO" > "\(dir)/info.json"
            printf '%s\\n' "$@" > "\(dir)/args"
            printf '%s|%s' "$PLUGIN_SETTING" "$INHERITED" > "\(dir)/env"
            cat <<JSON
            \(output)
            JSON

            """, executable: true)
    }

    private func source(
        command: String? = nil, apiVersion: String = KubeconfigExec.v1, args: [String] = [],
        env: [KubeconfigExec.EnvironmentVariable] = [], installHint: String? = nil,
        interactiveMode: KubeconfigExec.InteractiveMode? = .never, provideClusterInfo: Bool = false,
        cluster: ExecClusterInfo? = nil
    ) -> ExecCredentialSource {
        let plugin = KubeconfigExec(
            apiVersion: apiVersion, command: command ?? scratch.path + "/plugin.sh", args: args, env: env,
            installHint: installHint, provideClusterInfo: provideClusterInfo, interactiveMode: interactiveMode)
        return ExecCredentialSource(
            plugin: plugin, cluster: cluster, environment: ["PATH": "/usr/bin:/bin", "INHERITED": "from-parent"])
    }

    @Test func tokenWithoutExpiryIsCachedForever() async throws {
        try writePlugin()
        let source = source()
        #expect(try await source.credentials() == RequestCredentials(authorization: "Bearer tok-1"))
        #expect(try await source.credentials().authorization == "Bearer tok-1")
        #expect(try await source.credentials().authorization == "Bearer tok-1")
        #expect(runCount == 1)
    }

    @Test func concurrentCallersShareOneRun() async throws {
        try writePlugin()
        let source = source()
        let tokens = try await withThrowingTaskGroup(of: String?.self) { group in
            for _ in 0..<8 { group.addTask { try await source.credentials().authorization } }
            return try await group.reduce(into: [String?]()) { $0.append($1) }
        }
        #expect(Set(tokens) == ["Bearer tok-1"])
        #expect(runCount == 1)
    }

    @Test func expiredCredentialIsFetchedAgain() async throws {
        try writePlugin(status: #"{"token":"tok-RUN","expirationTimestamp":"2001-01-01T00:00:00Z"}"#)
        let source = source()
        #expect(try await source.credentials().authorization == "Bearer tok-1")
        #expect(try await source.credentials().authorization == "Bearer tok-2")
        #expect(runCount == 2)
    }

    @Test func unexpiredCredentialIsReused() async throws {
        try writePlugin(status: #"{"token":"tok-RUN","expirationTimestamp":"2999-01-01T00:00:00.123+02:00"}"#)
        let source = source()
        _ = try await source.credentials()
        #expect(try await source.credentials().authorization == "Bearer tok-1")
        #expect(runCount == 1)
    }

    @Test func unauthorizedRunsThePluginAgain() async throws {
        try writePlugin()
        let source = source()
        #expect(try await source.credentials().authorization == "Bearer tok-1")
        #expect(try await source.refreshAfterUnauthorized())
        #expect(try await source.credentials().authorization == "Bearer tok-2")
        #expect(runCount == 2)
    }

    @Test func clientCertificateCredential() async throws {
        let authority = try CertificateAuthority(commonName: "ca")
        let client = try authority.issueClientCertificate(commonName: "exec-user")
        let status = try JSONValue.object([
            "clientCertificateData": .string(client.certificatePEM),
            "clientKeyData": .string(client.privateKeyPEM),
        ]).data()
        try writePlugin(status: String(decoding: status, as: UTF8.self))
        let credentials = try await source().credentials()
        #expect(credentials.authorization == nil)
        #expect(credentials.clientCertificate == ClientCertificate(
            certificatePEM: Array(client.certificatePEM.utf8), privateKeyPEM: Array(client.privateKeyPEM.utf8)))
    }

    @Test func v1beta1PluginsWork() async throws {
        try writePlugin(apiVersion: KubeconfigExec.v1beta1)
        let source = source(apiVersion: KubeconfigExec.v1beta1, interactiveMode: nil)
        #expect(try await source.credentials().authorization == "Bearer tok-1")
        let info = try JSONValue(data: Data((scratch.read("info.json") ?? "").utf8))
        #expect(info["apiVersion"] == .string(KubeconfigExec.v1beta1))
    }

    @Test func wrongAPIVersionInOutputIsRejected() async throws {
        try writePlugin(apiVersion: KubeconfigExec.v1beta1)
        let source = source(apiVersion: KubeconfigExec.v1)
        let error = await #expect(throws: CredentialError.self) { try await source.credentials() }
        #expect("\(error.map { "\($0)" } ?? "")".contains(
            "it answered with apiVersion \"\(KubeconfigExec.v1beta1)\" but the kubeconfig asks for \"\(KubeconfigExec.v1)\""))
    }

    @Test func argsAndEnvironmentArePassed() async throws {
        try writePlugin()
        let source = source(args: ["get-token", "--cluster", "two words"], env: [.init(name: "PLUGIN_SETTING", value: "on")])
        _ = try await source.credentials()
        #expect(scratch.read("args") == "get-token\n--cluster\ntwo words\n")
        #expect(scratch.read("env") == "on|from-parent")
    }

    @Test func execInfoWithoutClusterInfo() async throws {
        try writePlugin()
        let source = source(cluster: ExecClusterInfo(server: "https://should-not-appear"))
        _ = try await source.credentials()
        let info = try JSONValue(data: Data((scratch.read("info.json") ?? "").utf8))
        #expect(info == .object([
            "kind": .string("ExecCredential"),
            "apiVersion": .string(KubeconfigExec.v1),
            "spec": .object(["interactive": .bool(false)]),
        ]))
    }

    @Test func execInfoCarriesTheClusterWhenAskedTo() async throws {
        // Resolved from a kubeconfig, so the cluster fields come through the real loader.
        try writePlugin()
        let caPEM = try CertificateAuthority(commonName: "ca").certificatePEM
        let file = try scratch.write("config", kubeconfigYAML(
            server: "https://127.0.0.1:18777",
            clusterExtra: """
                certificate-authority-data: \(base64(caPEM))
                tls-server-name: api.internal
                proxy-url: http://127.0.0.1:3128
                extensions:
                - name: client.authentication.k8s.io/exec
                  extension: {audience: probe}
                """,
            user: """
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./plugin.sh
                  provideClusterInfo: true
                  interactiveMode: IfAvailable
                """))
        let configuration = try ClientConfigurationLoader.load(environment: scratch.environment(kubeconfig: file))
        #expect(try await configuration.credentials.credentials().authorization == "Bearer tok-1")
        let info = try JSONValue(data: Data((scratch.read("info.json") ?? "").utf8))
        #expect(info["spec"]?["interactive"] == .bool(false))
        #expect(info["spec"]?["cluster"] == .object([
            "server": .string("https://127.0.0.1:18777"),
            "certificate-authority-data": .string(base64(caPEM)),
            "tls-server-name": .string("api.internal"),
            "proxy-url": .string("http://127.0.0.1:3128"),
            "config": .object(["audience": .string("probe")]),
        ]))
    }

    @Test func missingCommandShowsTheInstallHint() async throws {
        let source = source(command: "kubeclient-test-no-such-plugin", installHint: "Install it with: brew install thing")
        let error = await #expect(throws: CredentialError.self) { try await source.credentials() }
        #expect(error.map { "\($0)" } == "the credential plugin \"kubeclient-test-no-such-plugin\" was not found; "
            + "install it or fix users[].user.exec.command (Install it with: brew install thing)")
    }

    @Test func failingCommandShowsItsStderr() async throws {
        let path = try scratch.write("fail.sh", "#!/bin/sh\necho 'token expired, run login' >&2\nexit 3\n", executable: true)
        let source = source(command: path)
        let error = await #expect(throws: CredentialError.self) { try await source.credentials() }
        #expect(error.map { "\($0)" } == "the credential plugin \"\(path)\" exited with status 3: "
            + "token expired, run login; run it by hand to see why it fails")
    }

    @Test func aPluginThatIsNotExecutableIsReported() async throws {
        let path = try scratch.write("plain.sh", "#!/bin/sh\necho hi\n")
        let error = await #expect(throws: CredentialError.self) { try await self.source(command: path).credentials() }
        #expect(error.map { "\($0)" }?.contains("\(path) is not executable") == true)
    }

    @Test func cancellingTheCallerStopsAHangingPlugin() async throws {
        let pidFile = scratch.path + "/pid"
        let path = try scratch.write("hang.sh", "#!/bin/sh\necho $$ > \(pidFile)\nexec sleep 60\n", executable: true)
        let source = source(command: path)
        let call = Task { try await source.credentials() }
        let scratch = scratch
        var started: pid_t?
        try await waitUntil("the plugin to write its pid") {
            started = scratch.read("pid").flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return started != nil
        }
        let pid = try #require(started)
        #expect(kill(pid, 0) == 0)
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        // The plugin was terminated and reaped before the call returned.
        #expect(kill(pid, 0) == -1)
    }

    @Test func garbageOutputIsRejected() async throws {
        let path = try scratch.write("garbage.sh", "#!/bin/sh\necho hello\n", executable: true)
        let error = await #expect(throws: CredentialError.self) { try await self.source(command: path).credentials() }
        #expect(error.map { "\($0)" }?.contains("its output is not a JSON object: hello") == true)
    }

    @Test func alwaysInteractivePluginsFailClearly() async throws {
        try writePlugin()
        let source = source(interactiveMode: .always)
        let error = await #expect(throws: CredentialError.self) { try await source.credentials() }
        #expect(error.map { "\($0)" }?.contains("needs an interactive terminal") == true)
        #expect(runCount == 0)
    }

    @Test func pluginsAreFoundOnPath() async throws {
        try writePlugin(name: "bin/kubeclient-test-plugin")
        let plugin = KubeconfigExec(apiVersion: KubeconfigExec.v1, command: "kubeclient-test-plugin")
        let source = ExecCredentialSource(plugin: plugin, environment: ["PATH": "/usr/bin:/bin:\(scratch.path)/bin"])
        #expect(try await source.credentials().authorization == "Bearer tok-1")
    }
}

@Suite struct ExecCredentialMessagesTests {
    private func parse(_ json: String, _ version: String = KubeconfigExec.v1) throws(ExecCredentialMessages.ResponseProblem)
        -> ExecCredentialMessages.Credential
    {
        try ExecCredentialMessages.parseResponse(Data(json.utf8), expectedAPIVersion: version)
    }

    @Test func parsesExpiryInRFC3339Forms() throws {
        let plain = try parse(#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"a","expirationTimestamp":"2030-01-02T03:04:05Z"}}"#)
        #expect(plain.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        let offset = try parse(#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"a","expirationTimestamp":"2030-01-02T05:04:05+02:00"}}"#)
        #expect(offset.expiration == Date(timeIntervalSince1970: 1_893_553_445))
        let fractional = try parse(#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"a","expirationTimestamp":"2030-01-02T03:04:05.5Z"}}"#)
        #expect(fractional.expiration == Date(timeIntervalSince1970: 1_893_553_445.5))
        #expect(throws: ExecCredentialMessages.ResponseProblem.self) {
            try parse(#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"token":"a","expirationTimestamp":"tomorrow"}}"#)
        }
    }

    @Test func rejectsIncompleteStatus() {
        #expect(throws: ExecCredentialMessages.ResponseProblem.self) {
            try parse(#"{"apiVersion":"client.authentication.k8s.io/v1"}"#)
        }
        #expect(throws: ExecCredentialMessages.ResponseProblem.self) {
            try parse(#"{"apiVersion":"client.authentication.k8s.io/v1","status":{}}"#)
        }
        #expect(throws: ExecCredentialMessages.ResponseProblem.self) {
            try parse(#"{"apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"x"}}"#)
        }
        #expect(throws: ExecCredentialMessages.ResponseProblem.self) {
            try parse(#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"Secret","status":{"token":"a"}}"#)
        }
    }

    @Test func execInfoOmitsEmptyClusterFields() throws {
        let text = ExecCredentialMessages.execInfo(
            apiVersion: KubeconfigExec.v1, cluster: ExecClusterInfo(server: "https://x:1", insecureSkipTLSVerify: true),
            interactive: false)
        #expect(text == #"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"cluster":{"insecure-skip-tls-verify":true,"server":"https://x:1"},"interactive":false}}"#)
    }
}
