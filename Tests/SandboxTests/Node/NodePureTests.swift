import Foundation
import KubeClient
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// The process node's pure parts: image mapping, environment, back-off, CRI log records.
@Suite struct NodePureTests {
    let catalog = ImageCatalog(executablesDirectory: URL(fileURLWithPath: "/nonexistent"), mappings: [
        "example.com/team/app": .init(executable: "/opt/app", args: ["--serve"]),
        "example.com/pinned:2.0": .init(executable: "/opt/pinned"),
    ])

    @Test func imagesMapToExecutables() {
        #expect(catalog.resolve(image: "busybox:1.36", command: ["sh", "-c", "echo hi"], args: []) == .run(["sh", "-c", "echo hi"]))
        #expect(catalog.resolve(image: "docker.io/library/alpine", command: [], args: ["ls"]) == .run(["ls"]))
        #expect(catalog.resolve(image: "sandbox.local/shell:any", command: [], args: []) == .run(["sh"]))
        #expect(catalog.resolve(image: "example.com/team/app:v3", command: [], args: ["--port", "1"]) == .run(["/opt/app", "--serve", "--port", "1"]))
        #expect(catalog.resolve(image: "example.com/pinned:2.0", command: [], args: []) == .run(["/opt/pinned"]))
        #expect(catalog.resolve(image: "example.com/pinned:3.0", command: [], args: []) != .run(["/opt/pinned"]))
        guard case .pullFailed(let missing) = catalog.resolve(image: "nginx", command: [], args: []) else {
            Issue.record("an unknown image must fail to pull")
            return
        }
        #expect(missing == "Failed to pull image \"nginx\": rpc error: code = NotFound desc = failed to pull and unpack image \"docker.io/library/nginx:latest\": failed to resolve reference \"docker.io/library/nginx:latest\": docker.io/library/nginx:latest: not found")
        guard case .pullFailed(let unbuilt) = catalog.resolve(image: "ghcr.io/telepresence-swift/traffic:2.1", command: [], args: []) else {
            Issue.record("the traffic image needs the built executable")
            return
        }
        #expect(unbuilt.contains("not built"))
    }

    @Test func mappingFileIsReadAndBadOnesAreExplained() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("images-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try "images:\n  example.com/tool:\n    executable: /usr/bin/env\n    args: [\"FOO=1\"]\n".write(to: file, atomically: true, encoding: .utf8)
        let loaded = try ImageCatalog(executablesDirectory: URL(fileURLWithPath: "/nonexistent"), mappingFile: file)
        #expect(loaded.resolve(image: "example.com/tool:9", command: ["true"], args: []) == .run(["/usr/bin/env", "FOO=1", "true"]))
        try "images: [1, 2]\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(throws: PodRuntimeError.self) { _ = try ImageCatalog(executablesDirectory: URL(fileURLWithPath: "/"), mappingFile: file) }
    }

    @Test func repositoryDropsTagAndDigest() {
        #expect(ImageCatalog.repository(of: "reg:5000/a/b:1.2@sha256:abc") == "reg:5000/a/b")
        #expect(ImageCatalog.repository(of: "reg:5000/a/b") == "reg:5000/a/b")
        #expect(ImageCatalog.repository(of: "busybox:1.36") == "busybox")
    }

    @Test func expansionFollowsKubernetes() {
        let vars = ["A": "1", "B": "two"]
        func expand(_ text: String) -> String { ContainerEnvironment.expand(text) { vars[$0] } }
        #expect(expand("$(A)-$(B)") == "1-two")
        #expect(expand("$$(A)") == "$(A)")
        #expect(expand("$(C)") == "$(C)")
        #expect(expand("a$b$") == "a$b$")
        #expect(expand("$(A") == "$(A")
        #expect(expand("$$$(A)") == "$1")
    }

    @Test func serviceLinksFollowTheServicesOfTheNamespace() throws {
        let inputs = PodInputs(configMap: { _, _ in nil }, secret: { _, _ in nil }, services: { namespace in
            namespace == "default"
                ? [["metadata": ["name": "kubernetes"], "spec": ["clusterIP": "10.96.0.1", "ports": [["name": "https", "port": 443]]]]]
                : [["metadata": ["name": "web-app"], "spec": ["clusterIP": "10.96.3.4", "ports": [["port": 8080, "protocol": "UDP"]]]],
                   ["metadata": ["name": "headless"], "spec": ["clusterIP": "None", "ports": [["port": 1]]]]]
        })
        let pod: JSONValue = ["metadata": ["name": "p", "namespace": "team"], "spec": [:]]
        let env = Dictionary(try ContainerEnvironment.build(pod: pod, container: [:], podIP: "10.244.0.9", hostIP: "10.244.0.1", inputs: inputs),
                             uniquingKeysWith: { a, _ in a })
        #expect(env["WEB_APP_SERVICE_HOST"] == "10.96.3.4")
        #expect(env["WEB_APP_PORT_8080_UDP"] == "udp://10.96.3.4:8080")
        #expect(env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1")
        #expect(env["KUBERNETES_SERVICE_PORT"] == "443")
        #expect(env["HEADLESS_SERVICE_HOST"] == nil)
        var noLinks = pod
        noLinks["spec"]?["enableServiceLinks"] = false
        let limited = Dictionary(try ContainerEnvironment.build(pod: noLinks, container: [:], podIP: "", hostIP: "", inputs: inputs),
                                 uniquingKeysWith: { a, _ in a })
        #expect(limited["WEB_APP_SERVICE_HOST"] == nil)
        #expect(limited["KUBERNETES_SERVICE_HOST"] == "10.96.0.1")
    }

    @Test func downwardLabelsAndAnnotationsAreQuotedAsGoDoes() {
        let pod: JSONValue = ["metadata": ["annotations": [
            "plain": "from-the-spec", "json": "{\"a\":\"b\\c\"}\n", "tab": "x\ty", "bell": "\u{07}\u{01}", "unicode": "grüße",
        ]]]
        let file = ContainerEnvironment.fieldValue("metadata.annotations", pod: pod, podIP: "", hostIP: "")
        #expect(file == #"""
            bell="\a\x01"
            json="{\"a\":\"b\\c\"}\n"
            plain="from-the-spec"
            tab="x\ty"
            unicode="grüße"
            """#)
    }

    @Test func missingConfigMapKeyIsAConfigError() {
        let inputs = PodInputs(configMap: { _, _ in ["data": [:]] }, secret: { _, _ in nil }, services: { _ in [] })
        let container: JSONValue = ["env": [["name": "X", "valueFrom": ["configMapKeyRef": ["name": "cm", "key": "k"]]]]]
        #expect(throws: ContainerConfigError(description: "couldn't find key k in ConfigMap default/cm")) {
            _ = try ContainerEnvironment.build(pod: ["metadata": ["namespace": "default"]], container: container, podIP: "", hostIP: "", inputs: inputs)
        }
    }

    @Test func backOffDoublesToItsCap() {
        let options = ProcessNodeOptions(cluster: "x", stateDirectory: URL(fileURLWithPath: "/tmp"))
        #expect([0, 1, 2, 3, 5, 6, 20].map { options.backOff(restarts: $0) }
            == [.zero, .seconds(10), .seconds(20), .seconds(40), .seconds(160), .seconds(300), .seconds(300)])
    }

    @Test func logRecordsAreCRILines() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cri-\(UUID().uuidString).log").path
        defer { unlink(path) }
        let writer = try CRILogWriter(path: path)
        writer.append(Array("one\ntw".utf8)[...], stream: "stdout")
        writer.append(Array("o\n".utf8)[...], stream: "stdout")
        writer.append(Array(repeating: UInt8(ascii: "x"), count: CRILogWriter.maximumLine + 3)[...], stream: "stderr")
        writer.append(Array("tail".utf8)[...], stream: "stdout")
        writer.finish()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let parts = lines.map { $0.split(separator: " ", maxSplits: 3).map(String.init) }
        #expect(parts.map { $0[1] + " " + $0[2] } == ["stdout F", "stdout F", "stderr P", "stdout F", "stderr F"])
        #expect(parts[0][3] == "one" && parts[1][3] == "two" && parts[3][3] == "tail" && parts[4][3] == "xxx")
        #expect(parts[0][0].count == 30 && parts[0][0].hasSuffix("Z"))
    }
}
