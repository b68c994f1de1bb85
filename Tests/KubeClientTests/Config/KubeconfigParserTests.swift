import Foundation
import Testing
@testable import KubeClient

@Suite struct KubeconfigParserTests {
    let file = "/home/u/.kube/config"

    @Test func readsEveryDocumentedField() throws {
        let yaml = """
            apiVersion: v1
            kind: Config
            preferences: {colors: true}
            clusters:
            - name: prod
              cluster:
                server: https://api.example.com:6443
                certificate-authority: certs/ca.pem
                certificate-authority-data: \(base64("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"))
                insecure-skip-tls-verify: false
                tls-server-name: kubernetes.default
                proxy-url: http://proxy:3128
                disable-compression: true
                extensions:
                - name: client.authentication.k8s.io/exec
                  extension:
                    audience: probe
                    retries: 3
            users:
            - name: admin
              user:
                client-certificate: /abs/client.crt
                client-key: client.key
                token: t0k
                tokenFile: ../tokens/t
                username: alice
                password: secret
                as: bob
                as-uid: "1234"
                as-groups: [dev, ops]
                as-user-extra:
                  scopes: [view, edit]
                exec:
                  apiVersion: client.authentication.k8s.io/v1
                  command: ./bin/plugin
                  args: [get-token, --cluster, prod]
                  env:
                  - name: A
                    value: "1"
                  installHint: install it with brew
                  provideClusterInfo: true
                  interactiveMode: Never
            contexts:
            - name: prod-admin
              context:
                cluster: prod
                user: admin
                namespace: web
            current-context: prod-admin
            """
        let config = try KubeconfigParser.parse(yaml, file: file)
        #expect(config.currentContext == "prod-admin")
        #expect(config.currentContextFile == file)
        #expect(config.preferences == .object(["colors": .bool(true)]))

        let cluster = try #require(config.cluster(named: "prod"))
        #expect(cluster.path == "clusters[0]")
        #expect(cluster.value.server == "https://api.example.com:6443")
        #expect(cluster.value.certificateAuthority == "/home/u/.kube/certs/ca.pem")
        #expect(String(decoding: cluster.value.certificateAuthorityData ?? [], as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE"))
        #expect(cluster.value.tlsServerName == "kubernetes.default")
        #expect(cluster.value.proxyURL == "http://proxy:3128")
        #expect(cluster.value.disableCompression)
        #expect(cluster.value.extensions[KubeconfigCluster.execExtensionName]
            == .object(["audience": .string("probe"), "retries": .number(3)]))

        let user = try #require(config.user(named: "admin")).value
        #expect(user.clientCertificate == "/abs/client.crt")
        #expect(user.clientKey == "/home/u/.kube/client.key")
        #expect(user.token == "t0k")
        #expect(user.tokenFile == "/home/u/tokens/t")
        #expect(user.username == "alice" && user.password == "secret")
        #expect(user.impersonate == "bob" && user.impersonateUID == "1234")
        #expect(user.impersonateGroups == ["dev", "ops"])
        #expect(user.impersonateUserExtra == ["scopes": ["view", "edit"]])
        let exec = try #require(user.exec)
        #expect(exec.apiVersion == KubeconfigExec.v1)
        #expect(exec.command == "/home/u/.kube/bin/plugin")
        #expect(exec.args == ["get-token", "--cluster", "prod"])
        #expect(exec.env == [.init(name: "A", value: "1")])
        #expect(exec.installHint == "install it with brew")
        #expect(exec.provideClusterInfo)
        #expect(exec.interactiveMode == .never)

        let context = try #require(config.context(named: "prod-admin")).value
        #expect(context == KubeconfigContext(cluster: "prod", user: "admin", namespace: "web"))
    }

    @Test func execCommandWithoutSlashStaysAName() throws {
        let config = try KubeconfigParser.parse(
            """
            users:
            - name: u
              user:
                exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}
            """, file: file)
        #expect(config.users[0].value.exec?.command == "aws")
        #expect(config.users[0].value.exec?.interactiveMode == nil)
    }

    @Test func emptyFileIsAnEmptyConfig() throws {
        #expect(try KubeconfigParser.parse("", file: file).isEmpty)
        #expect(try KubeconfigParser.parse("# nothing\n", file: file).isEmpty)
    }

    @Test func yamlSyntaxErrorNamesFileAndLine() {
        let text = errorText({
            _ = try KubeconfigParser.parse("clusters:\n- name: a\n  cluster: {server: [\n", file: file)
        })
        #expect(text?.hasPrefix("/home/u/.kube/config:") == true)
        #expect(text?.contains("invalid YAML") == true)
        let error = #expect(throws: ConfigurationError.self) {
            _ = try KubeconfigParser.parse("a: b\n  c: d\n", file: file)
        }
        guard case .syntax(let errorFile, let line, _) = error else {
            Issue.record("expected a syntax error, got \(String(describing: error))")
            return
        }
        #expect(errorFile == file)
        #expect(line == 2)
    }

    @Test func invalidBase64NamesFileAndField() {
        let yaml = """
            users:
            - name: a
              user: {token: x}
            - name: b
              user: {}
            - name: c
              user:
                client-key-data: "not base64!"
            """
        #expect(errorText({ _ = try KubeconfigParser.parse(yaml, file: file) })
            == "/home/u/.kube/config: users[2].user.client-key-data is not valid base64; "
            + "encode the PEM file with `base64 -w0` or use the path field instead")
    }

    @Test func base64WithLineBreaksIsAccepted() throws {
        let encoded = base64(String(repeating: "pem bytes ", count: 20))
        let wrapped = stride(from: 0, to: encoded.count, by: 64).map { offset -> String in
            let start = encoded.index(encoded.startIndex, offsetBy: offset)
            let end = encoded.index(start, offsetBy: min(64, encoded.count - offset))
            return "      " + encoded[start..<end]
        }.joined(separator: "\n")
        let config = try KubeconfigParser.parse(
            "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: |\n\(wrapped)\n", file: file)
        #expect(config.clusters[0].value.certificateAuthorityData == Array(String(repeating: "pem bytes ", count: 20).utf8))
    }

    @Test func wrongTypesNameTheField() {
        #expect(errorText({ _ = try KubeconfigParser.parse("clusters: {a: b}\n", file: file) })
            == "/home/u/.kube/config: clusters must be a list, not a map")
        #expect(errorText({
            _ = try KubeconfigParser.parse("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n", file: file)
        }) == "/home/u/.kube/config: clusters[0].cluster.insecure-skip-tls-verify must be true or false")
        #expect(errorText({
            _ = try KubeconfigParser.parse("contexts:\n- name: x\n  context:\n    namespace: [a]\n", file: file)
        }) == "/home/u/.kube/config: contexts[0].context.namespace must be a string, not a list")
        #expect(errorText({ _ = try KubeconfigParser.parse("- a\n- b\n", file: file) })
            == "/home/u/.kube/config: the document must be a map of kubeconfig fields, not a list")
    }

    @Test func entriesNeedNamesAndUniqueOnes() {
        #expect(errorText({ _ = try KubeconfigParser.parse("users:\n- user: {token: a}\n", file: file) })
            == "/home/u/.kube/config: users[0].name is missing")
        let text = errorText({
            _ = try KubeconfigParser.parse("contexts:\n- name: a\n- name: b\n- name: a\n", file: file)
        })
        #expect(text?.contains("contexts[2].name repeats the name \"a\" already used by contexts[0]") == true)
    }

    @Test func execConfigIsChecked() {
        #expect(errorText({
            _ = try KubeconfigParser.parse("users:\n- name: u\n  user:\n    exec: {command: x}\n", file: file)
        })?.contains("users[0].user.exec.apiVersion is missing") == true)
        #expect(errorText({
            _ = try KubeconfigParser.parse(
                "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}\n",
                file: file)
        })?.contains("users[0].user.exec.apiVersion is \"client.authentication.k8s.io/v1alpha1\"") == true)
        #expect(errorText({
            _ = try KubeconfigParser.parse(
                "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x, interactiveMode: Sometimes}\n",
                file: file)
        })?.contains("users[0].user.exec.interactiveMode is \"Sometimes\"") == true)
    }
}
