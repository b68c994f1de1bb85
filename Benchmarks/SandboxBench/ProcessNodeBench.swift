import Foundation
import KubeClient
import NIOCore
import Sandbox
import Synchronization

/// The process node's figures (issue 4), on a real `sandbox-cluster up` (root only): up until
/// ready with the network and DNS, the latency from a pod's creation to Running, and TCP
/// throughput from inside a pod's network namespace to the echo app through its Service and
/// directly to its pod IP (the baseline), and through KubeClient's port-forward.
struct ProcessNodeBench {
    struct Throughput {
        var name: String
        var megabytesPerSecond: Double
        var baselineMegabytesPerSecond: Double?
    }

    let executable: URL
    let stateDirectory: URL
    let name = "bench-p\(getpid() % 100_000)"
    static let total = 256 << 20

    /// Runs the whole section; `down` happens whatever fails.
    func run() async throws -> (figures: [SandboxBench.Figure], throughput: [Throughput]) {
        let arguments = ["--name", name, "--state-dir", stateDirectory.path]
        // A run killed earlier may have left this name's namespaces: `down` removes them.
        _ = try? await SandboxBench.runAsync(executable, ["down"] + arguments)
        SandboxBench.progress("measuring sandbox-cluster up with the process node, network and DNS")
        let start = ContinuousClock.now
        try await SandboxBench.runAsync(executable, ["up"] + arguments)
        let up = SandboxBench.milliseconds(ContinuousClock.now - start)
        do {
            var result = try await measure()
            result.figures.insert(.init(name: "up to ready (network, DNS, node)", milliseconds: up, baselineMilliseconds: nil, target: "< 3000 ms"), at: 0)
            try await SandboxBench.runAsync(executable, ["down"] + arguments)
            return result
        } catch {
            _ = try? await SandboxBench.runAsync(executable, ["down"] + arguments)
            throw error
        }
    }

    private func measure() async throws -> (figures: [SandboxBench.Figure], throughput: [Throughput]) {
        let client = KubeClient(configuration: try ClientConfigurationLoader.load(
            overrides: ConfigurationOverrides(kubeconfig: stateDirectory.appendingPathComponent("kubeconfig").path)))
        let names = ClusterNames(cluster: name)

        SandboxBench.progress("measuring pod start-up (created -> Running, 10 pods one after another)")
        let running = RunningTimes()
        let watch = Task {
            for try await event in client.watch(.pods, namespace: "default", resourceVersion: nil, as: JSONValue.self) {
                switch event {
                case .added(let pod), .modified(let pod):
                    if pod["status"]?["phase"]?.stringValue == "Running", let name = pod["metadata"]?["name"]?.stringValue {
                        running.record(name)
                    }
                default:
                    break
                }
            }
        }
        defer { watch.cancel() }
        // The first pod warms up the watch (and the node's spawn thread); it is not counted.
        var samples: [Double] = []
        for index in 0..<11 {
            let pod = "start-\(index)"
            let created = ContinuousClock.now
            _ = try await client.create(.pods, Self.pod(pod, image: "busybox", command: ["sleep", "3600"]), namespace: "default")
            let deadline = created + .seconds(20)
            var seen: ContinuousClock.Instant?
            while seen == nil, ContinuousClock.now < deadline {
                seen = running.time(of: pod)
                if seen == nil { try await Task.sleep(for: .milliseconds(1)) }
            }
            guard let seen else { throw BenchError(message: "pod \(pod) was not Running within 20 s") }
            if index > 0 { samples.append(SandboxBench.milliseconds(seen - created)) }
        }
        watch.cancel()
        samples.sort()
        let podRunning = samples[samples.count / 2]
        for index in 0..<11 {
            try? await client.delete(.pods, name: "start-\(index)", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
        }

        SandboxBench.progress("starting the echo app, its Service and a client pod")
        _ = try await client.create(.pods, Self.pod("echo", image: "sandbox.local/echo", command: [], readyOnPort: 9000), namespace: "default")
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "echo"],
            "spec": ["selector": ["app": "echo"], "ports": [["name": "tcp", "port": 9000, "targetPort": 9000]]],
        ]
        let createdService = try await client.create(.services, service, namespace: "default")
        let clusterIP = createdService["spec"]?["clusterIP"]?.stringValue ?? ""
        let clientPod = try await client.create(.pods, Self.pod("client", image: "busybox", command: ["sleep", "3600"]), namespace: "default")
        let clientUID = clientPod["metadata"]?["uid"]?.stringValue ?? ""
        let clientNamespace = names.podNamespace(uid: clientUID)

        // Ready, in the Endpoints, and reachable through the service rules.
        var podIP = ""
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let pod: JSONValue = try await client.get(.pods, name: "echo", namespace: "default")
            let ready = (pod["status"]?["conditions"]?.arrayValue ?? []).contains { $0["type"] == "Ready" && $0["status"] == "True" }
            let clientReady: JSONValue = try await client.get(.pods, name: "client", namespace: "default")
            if ready, clientReady["status"]?["phase"]?.stringValue == "Running", let ip = pod["status"]?["podIP"]?.stringValue,
               let fd = try? await ClusterNamespace.run(in: clientNamespace, { try blockingConnect(host: clusterIP, port: 9000) }) {
                close(fd)
                podIP = ip
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard !podIP.isEmpty else { throw BenchError(message: "the echo app did not become reachable through its service within 30 s") }

        SandboxBench.progress("measuring pod-to-pod and pod-to-service TCP (256 MiB echoed each)")
        let direct = try await Self.echoThroughput(namespace: clientNamespace, host: podIP, port: 9000)
        let viaService = try await Self.echoThroughput(namespace: clientNamespace, host: clusterIP, port: 9000)

        SandboxBench.progress("measuring port-forward to the echo pod (KubeClient, 256 MiB echoed)")
        let stream = try await client.portForward(pod: "echo", namespace: "default", port: 9000)
        let forwarded = try await SandboxBench.echo(through: stream, total: Self.total)
        await stream.close()

        let figures = [SandboxBench.Figure(name: "pod created -> Running (p50 of 10)", milliseconds: podRunning, baselineMilliseconds: nil, target: "< 300 ms")]
        let throughput = [
            Throughput(name: "pod -> pod IP, TCP echo (kernel)", megabytesPerSecond: direct, baselineMegabytesPerSecond: nil),
            Throughput(name: "pod -> service ClusterIP, TCP echo", megabytesPerSecond: viaService, baselineMegabytesPerSecond: direct),
            Throughput(name: "port-forward (KubeClient) -> echo pod", megabytesPerSecond: forwarded, baselineMegabytesPerSecond: direct),
        ]
        return (figures, throughput)
    }

    /// A pod of one container; with `readyOnPort`, labelled `app: NAME` and Ready once that
    /// port accepts connections.
    static func pod(_ name: String, image: String, command: [String], readyOnPort: Int? = nil) -> JSONValue {
        var container: JSONValue = ["name": "c", "image": .string(image)]
        var metadata: JSONValue = ["name": .string(name)]
        if !command.isEmpty { container["command"] = .array(command.map { .string($0) }) }
        if let readyOnPort {
            container["readinessProbe"] = ["tcpSocket": ["port": .number(Double(readyOnPort))], "periodSeconds": 1]
            metadata["labels"] = ["app": .string(name)]
        }
        return [
            "apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": ["terminationGracePeriodSeconds": 0, "containers": [container]],
        ]
    }

    /// Connects from inside `namespace` (a kernel socket made there) and echoes 256 MiB: one
    /// thread writes while another reads back; MB/s of the echoed bytes.
    static func echoThroughput(namespace: String, host: String, port: Int) async throws -> Double {
        let fd = try await ClusterNamespace.run(in: namespace) { try blockingConnect(host: host, port: port) }
        defer { close(fd) }
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let start = ContinuousClock.now
        async let written: Int = onThread {
            let chunk = [UInt8](repeating: 0x5a, count: 256 << 10)
            var sent = 0
            while sent < total {
                let count = chunk.withUnsafeBytes { write(fd, $0.baseAddress, min($0.count, total - sent)) }
                if count <= 0 { break }
                sent += count
            }
            return sent
        }
        let received: Int = await onThread {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var got = 0
            while got < total {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 { break }
                got += count
            }
            return got
        }
        let sent = await written
        let elapsed = SandboxBench.milliseconds(ContinuousClock.now - start)
        guard sent == total, received == total else {
            throw BenchError(message: "echo through \(host):\(port) from \(namespace) stopped after \(received) of \(total) bytes")
        }
        return Double(total) / 1e6 / (elapsed / 1000)
    }

    /// Runs blocking I/O on a thread of its own (never on the cooperative pool).
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }
}

/// When the watch saw each pod Running first.
final class RunningTimes: Sendable {
    private let times = Mutex<[String: ContinuousClock.Instant]>([:])
    func record(_ name: String) {
        let now = ContinuousClock.now
        times.withLock { if $0[name] == nil { $0[name] = now } }
    }
    func time(of name: String) -> ContinuousClock.Instant? { times.withLock { $0[name] } }
}
