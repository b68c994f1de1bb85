import Foundation
import KubeClient
import NIOCore
import Testing
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite("Streams: pods/exec over WebSocket")
struct ExecTests {
    @Test("KubeClient's exec: stdin in, stdout and stderr apart, the exit code")
    func kubeClient() async throws {
        try await TestCluster.with { cluster in
            let runtime = FakePodRuntime()
            cluster.api.node.runtime = runtime
            try await cluster.runningPod("web", containers: ["app", "side"])
            let client = try cluster.client()
            let result = try await within(.seconds(20), "exec") {
                try await client.exec(pod: "web", namespace: "default", command: ["sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"], stdin: Array("hello\n".utf8))
            }
            #expect(result.stdoutText == "HELLO\n")
            #expect(result.stderrText == "oops\n")
            #expect(result.exitCode == 3)
            // No container named: the first one, unless the annotation says otherwise.
            #expect(runtime.execRequests.last?.container == "app")
            let ok = try await client.exec(pod: "web", namespace: "default", container: "side", command: ["true"])
            #expect(ok.exitCode == 0)
            #expect(runtime.execRequests.last?.container == "side")
            // The default-container annotation names the container when the request does not.
            try await cluster.runningPod("annotated", containers: ["app", "side"], annotations: [ContainerChoice.defaultAnnotation: "side"])
            _ = try await client.exec(pod: "annotated", namespace: "default", command: ["true"])
            #expect(runtime.execRequests.last?.container == "side")
        }
    }

    @Test("resize messages: Width and Height from the JSON, anything else ignored")
    func resize() {
        #expect(ExecSession.terminalSize(ByteBuffer(string: #"{"Width":120,"Height":40}"#)).map { [$0.width, $0.height] } == [120, 40])
        #expect(ExecSession.terminalSize(ByteBuffer(string: #"{"Width":-1,"Height":40}"#)) == nil)
        #expect(ExecSession.terminalSize(ByteBuffer(string: "not json")) == nil)
    }

    @Test("exec errors: missing pod, missing container, unknown executable, completed pod")
    func errors() async throws {
        try await TestCluster.with { cluster in
            cluster.api.node.runtime = FakePodRuntime()
            try await cluster.runningPod("web")
            let client = try cluster.client()
            func failure(_ container: String?, _ command: [String], pod: String = "web") async -> String {
                do {
                    _ = try await client.exec(pod: pod, namespace: "default", container: container, command: command)
                    return "no error"
                } catch {
                    return "\(error)"
                }
            }
            let missingPod = await failure(nil, ["true"], pod: "nope")
            #expect(missingPod.contains("pods \"nope\" not found"), "\(missingPod)")
            let missingContainer = await failure("nope", ["true"])
            #expect(missingContainer.contains("container nope is not valid for pod web"), "\(missingContainer)")
            let unknown = await failure(nil, ["no-such-command-here"])
            #expect(unknown.contains("executable file not found"), "\(unknown)")
            _ = try cluster.api.store.update(ResourceCatalog.pods, namespace: "default", name: "web") { current in
                var value = current.value
                value["status"]?["phase"] = "Succeeded"
                return value
            }
            let completed = await failure(nil, ["true"])
            #expect(completed.contains("cannot exec into a container in a completed pod; current phase is Succeeded"), "\(completed)")
        }
    }

    @Test("kubectl exec (WebSocket v5): stdin, output and 'command terminated with exit code'",
          .enabled(if: ["1.30", "1.33"].allSatisfy(Kubectl.runnable)), arguments: ["1.30", "1.33"])
    func kubectl(version: String) async throws {
        try await TestCluster.with { cluster in
            cluster.api.node.runtime = FakePodRuntime()
            try await cluster.runningPod("web")
            let kubectl = try cluster.kubectl(version)
            let result = try await kubectl.run(["exec", "-i", "web", "--", "sh", "-c", "cat; echo to-stderr >&2; exit 7"], stdin: "from stdin\n", timeout: 30)
            #expect(result.stdout == "from stdin\n", "\(result.output)")
            #expect(result.stderr.contains("to-stderr"), "\(result.output)")
            #expect(result.stderr.contains("command terminated with exit code 7"), "\(result.output)")
            #expect(result.status == 7, "\(result.output)")
            let ok = try await kubectl.run(["exec", "web", "-c", "app", "--", "sh", "-c", "echo hi"], timeout: 30)
            #expect(ok.status == 0, "\(ok.output)")
            #expect(ok.stdout == "hi\n", "\(ok.output)")
        }
    }

    static let pythonScript = #"""
        import sys
        from kubernetes import client, config
        from kubernetes.stream import stream
        config.load_kube_config(sys.argv[1])
        v1 = client.CoreV1Api()
        out = stream(v1.connect_get_namespaced_pod_exec, "web", "default", command=["sh", "-c", "echo out; echo err >&2"],
                     stderr=True, stdin=False, stdout=True, tty=False)
        print("combined", repr(out))
        resp = stream(v1.connect_get_namespaced_pod_exec, "web", "default", command=["sh", "-c", "echo hi; echo bad >&2; exit 3"],
                      stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
        resp.run_forever(timeout=10)
        print("stdout", repr(resp.read_stdout(timeout=1)), "stderr", repr(resp.read_stderr(timeout=1)), "code", resp.returncode)
        """#

    @Test("the Python client's stream exec: output, stderr, return code", .enabled(if: PythonClientTests.available || Kubectl.isCI))
    func pythonClient() async throws {
        try #require(PythonClientTests.available, "the Python kubernetes client is not importable; pip install kubernetes==33.1.0")
        try await TestCluster.with { cluster in
            cluster.api.node.runtime = FakePodRuntime()
            try await cluster.runningPod("web")
            let (status, output) = try await cluster.python(Self.pythonScript)
            #expect(status == 0, "\(output)")
            #expect(output.contains("combined 'out\\nerr\\n'") || output.contains("combined 'err\\nout\\n'"), "\(output)")
            #expect(output.contains("stdout 'hi\\n' stderr 'bad\\n' code 3"), "\(output)")
        }
    }
}
