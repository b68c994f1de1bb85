import Foundation
import KubeClient
import NIOCore
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode
import Testing

@Suite("Streams: pods/portforward over WebSocket")
struct PortForwardTests {
    @Test("KubeClient's portForward echoes through the pod's port, and the data plane's throughput is measured")
    func kubeClientEchoAndThroughput() async throws {
        let echo = try await EchoServer.start()
        do {
            try await TestCluster.with { cluster in
                let runtime = FakePodRuntime()
                runtime.map(port: 8080, to: echo.port)
                cluster.api.node.runtime = runtime
                try await cluster.runningPod("web")
                let client = try cluster.client()
                let stream = try await client.portForward(pod: "web", namespace: "default", port: 8080)
                // "hello", then 64 MiB out and back through the WebSocket relay (the stream is read once).
                let hello = "hello through the API server"
                let total = 64 << 20
                let chunk = ByteBuffer(repeating: 0x5a, count: 64 << 10)
                let start = ContinuousClock.now
                let (head, received) = try await within(.seconds(90), "64 MiB through port-forward") {
                    try await withThrowingTaskGroup(of: (String, Int).self) { group in
                        group.addTask {
                            try await stream.write(ByteBuffer(string: hello))
                            var sent = 0
                            while sent < total {
                                try await stream.write(chunk)
                                sent += chunk.readableBytes
                            }
                            return ("", 0)
                        }
                        group.addTask {
                            var head: [UInt8] = []
                            var count = 0
                            for try await part in stream.inbound {
                                if head.count < hello.utf8.count { head += part.readableBytesView.prefix(hello.utf8.count - head.count) }
                                count += part.readableBytes
                                if count >= total + hello.utf8.count { break }
                            }
                            return (String(decoding: head, as: UTF8.self), count - hello.utf8.count)
                        }
                        var result = ("", 0)
                        for try await value in group where !value.0.isEmpty || value.1 > 0 { result = value }
                        return result
                    }
                }
                #expect(head == hello)
                let elapsed = ContinuousClock.now - start
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                print("port-forward throughput (KubeClient, echo, debug build): \(String(format: "%.1f", Double(total) / seconds / 1e6)) MB/s each way")
                #expect(received == total)
                await stream.close()
            }
        } catch {
            await echo.close()
            throw error
        }
        await echo.close()
    }

    @Test("a port nothing listens on reports the kubelet's error on its error channel")
    func refusedPort() async throws {
        try await TestCluster.with { cluster in
            cluster.api.node.runtime = FakePodRuntime()
            try await cluster.runningPod("web")
            let stream = try await cluster.client().portForward(pod: "web", namespace: "default", port: 9999)
            let error = try await within(.seconds(10), "the error") {
                do {
                    for try await _ in stream.inbound {}
                    return "no error"
                } catch {
                    return "\(error)"
                }
            }
            #expect(error.contains("error forwarding port 9999 to pod web"), "\(error)")
            #expect(error.contains("connection refused"), "\(error)")
            await stream.close()
        }
    }

    @Test("port-forward to a missing pod is a 404, and without a WebSocket a 400 asking for an upgrade")
    func errors() async throws {
        try await TestCluster.with { cluster in
            cluster.api.node.runtime = FakePodRuntime()
            do {
                _ = try await cluster.client().portForward(pod: "nope", namespace: "default", port: 80)
                Issue.record("port-forward to a missing pod succeeded")
            } catch {
                #expect("\(error)".contains("pods \"nope\" not found"), "\(error)")
            }
            try await cluster.runningPod("web")
            let (status, output) = try await runProcess("/usr/bin/env", [
                "curl", "-sk", "-H", "Authorization: Bearer \(cluster.server.token)",
                "\(cluster.server.url)/api/v1/namespaces/default/pods/web/portforward?ports=80",
            ])
            #expect(status == 0)
            #expect(output.contains("Upgrade request required"), "\(output)")
        }
    }

    static let pythonScript = #"""
        import sys, time
        from kubernetes import client, config
        from kubernetes.stream import portforward
        config.load_kube_config(sys.argv[1])
        v1 = client.CoreV1Api()
        pf = portforward(v1.connect_get_namespaced_pod_portforward, "web", "default", ports="8080,9999")
        s = pf.socket(8080)
        s.setblocking(True)
        s.settimeout(10)
        s.sendall(b"ping-from-python")
        data = b""
        while len(data) < 16:
            chunk = s.recv(1024)
            if not chunk:
                break
            data += chunk
        print("echo", data.decode())
        deadline = time.time() + 10
        while pf.error(9999) is None and time.time() < deadline:
            time.sleep(0.05)
        print("error", pf.error(9999))
        s.sendall(b"still-alive")
        data = b""
        while len(data) < 11:
            chunk = s.recv(1024)
            if not chunk:
                break
            data += chunk
        print("after", data.decode())
        s.close()
        pf.close()
        """#

    @Test("the Python client's portforward: echo on one port, the error of another, the first still usable",
          .enabled(if: PythonClientTests.available || Kubectl.isCI))
    func pythonClient() async throws {
        try #require(PythonClientTests.available, "the Python kubernetes client is not importable; pip install kubernetes==33.1.0")
        let echo = try await EchoServer.start()
        do {
            try await TestCluster.with { cluster in
                let runtime = FakePodRuntime()
                runtime.map(port: 8080, to: echo.port)
                cluster.api.node.runtime = runtime
                try await cluster.runningPod("web")
                let (status, output) = try await cluster.python(Self.pythonScript)
                #expect(status == 0, "\(output)")
                #expect(output.contains("echo ping-from-python"), "\(output)")
                #expect(output.contains("error error forwarding port 9999 to pod web"), "\(output)")
                #expect(output.contains("after still-alive"), "\(output)")
            }
        } catch {
            await echo.close()
            throw error
        }
        await echo.close()
    }
}
