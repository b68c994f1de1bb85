import ChildProcess
import Foundation
import KubeClient
import NIOCore
import NIOPosix
import Sandbox

/// `sandbox-bench`: the sandbox API server's figures from issue 3, measured over real HTTPS with
/// KubeClient, each beside a baseline taken in the same run (a small GET's round trip), and,
/// as root, the process node's figures from issue 4 (``ProcessNodeBench``). Prints tables;
/// `--json FILE` also writes the timing figures.
@main
struct SandboxBench {
    struct Figure: Encodable {
        var name: String
        var milliseconds: Double
        var baselineMilliseconds: Double?
        var target: String
    }

    /// Only needs what the API returns for each item; the list is still parsed whole.
    struct NameOnly: Decodable, Sendable { var metadata: ObjectMeta }

    static func main() async throws {
        let arguments = CommandLine.arguments
        let jsonPath = arguments.firstIndex(of: "--json").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
        var figures: [Figure] = []

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await APIServer.start(.init(name: "bench", controllers: false))
        let kubeconfig = folder.appendingPathComponent("kubeconfig")
        try server.writeKubeconfig(to: kubeconfig)
        let client = KubeClient(configuration: try ClientConfigurationLoader.load(
            overrides: ConfigurationOverrides(kubeconfig: kubeconfig.path)))

        // Baseline: the round trip of a small GET on a warm connection.
        let baseline = try await median(runs: 50) {
            let _: Namespace = try await client.get(.namespaces, name: "default")
        }

        for i in 0..<5000 {
            _ = try server.store.create(ResourceCatalog.pods, [
                "apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": .string("pod-\(i)"), "namespace": "default", "labels": ["app": "bench"]],
                "spec": ["containers": [["name": "c", "image": "echo:1"]]],
            ])
        }
        let list = try await median(runs: 5) {
            let pods: KubeList<NameOnly> = try await client.list(.pods, namespace: KubeClient.allNamespaces)
            precondition(pods.items.count == 5000)
        }
        figures.append(Figure(name: "list 5,000 pods (HTTPS, parsed)", milliseconds: list, baselineMilliseconds: baseline, target: "< 200 ms"))

        progress("measuring 100 watches")
        // 100 watches on one server; a change is timed until every watch has seen it.
        let watchers = 100
        let seen = Counter()
        // Read before the tasks start: a task that ran after the first change and read the
        // version then would never see that change (the figure used to hang on it).
        let since = "\(server.store.currentResourceVersion)"
        let tasks = (0..<watchers).map { _ in
            Task {
                for try await event in client.watch(.pods, namespace: "default", resourceVersion: since, as: NameOnly.self) {
                    if case .modified = event { seen.increment() }
                }
            }
        }
        defer { tasks.forEach { $0.cancel() } }
        var round = 0
        func change() async throws -> Double {
            round += 1
            let target = round * watchers
            let start = ContinuousClock.now
            let _: JSONValue = try await client.patch(
                .pods, name: "pod-1", namespace: "default", type: .merge,
                patch: ["metadata": ["labels": ["round": .string("\(round)")]]] as JSONValue)
            // A deadline, so a watch that never sees the change fails the figure instead of
            // spinning for ever.
            let deadline = start + .seconds(10)
            while seen.value < target {
                guard ContinuousClock.now < deadline else {
                    throw BenchError(message: "only \(seen.value - (round - 1) * watchers) of \(watchers) watches saw change \(round) within 10 s")
                }
                await Task.yield()
            }
            return milliseconds(ContinuousClock.now - start)
        }
        _ = try await change()  // every watch connected and warm
        var samples: [Double] = []
        for _ in 0..<20 { samples.append(try await change()) }
        figures.append(Figure(name: "a change seen by all 100 watches", milliseconds: samples.sorted()[samples.count / 2], baselineMilliseconds: baseline, target: "< 10 ms"))
        tasks.forEach { $0.cancel() }

        progress("measuring port-forward throughput")
        // Port-forward's data plane: bytes echoed by a local server behind a pod's port, through
        // the API server's WebSocket relay and KubeClient's port-forward stream.
        let echo = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        server.api.node.runtime = LoopbackRuntime(port: echo.localAddress?.port ?? 0)
        _ = try server.store.create(ResourceCatalog.pods, [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["name": "echo", "namespace": "default"],
            "spec": ["containers": [["name": "c", "image": "echo:1"]]], "status": ["phase": "Running"],
        ])
        let stream = try await client.portForward(pod: "echo", namespace: "default", port: 7)
        let total = 256 << 20
        let megabytesPerSecond = try await Self.echo(through: stream, total: total)
        await stream.close()
        try? await echo.close()
        figures.append(Figure(name: "port-forward: 256 MiB echoed", milliseconds: Double(total) / 1e3 / megabytesPerSecond,
                              baselineMilliseconds: nil, target: "-"))
        try await server.shutdown()

        progress("measuring sandbox-cluster up")
        // `sandbox-cluster up` until ready, as a user runs it.
        let executable = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().appendingPathComponent("sandbox-cluster")
        var throughput: [ProcessNodeBench.Throughput] = []
        if FileManager.default.isExecutableFile(atPath: executable.path) {
            // The API server alone (the virtual node needs no root).
            let name = "bench-\(getpid())"
            let state = ["--name", name, "--state-dir", folder.appendingPathComponent("up").path]
            let start = ContinuousClock.now
            try await runAsync(executable, ["up", "--node", "virtual"] + state)
            let up = milliseconds(ContinuousClock.now - start)
            try await runAsync(executable, ["down"] + state)
            figures.append(Figure(name: "up until ready (--node virtual)", milliseconds: up, baselineMilliseconds: nil, target: "< 3000 ms"))
            if geteuid() == 0 {
                let section = try await ProcessNodeBench(executable: executable, stateDirectory: folder.appendingPathComponent("process")).run()
                figures += section.figures
                throughput = section.throughput
            } else {
                progress("skipping the process-node figures: they need root (network namespaces, nftables); run as root")
            }
        } else {
            progress("skipping the sandbox-cluster figures: build the sandbox-cluster product beside sandbox-bench")
        }

        print(String(repeating: "-", count: 86))
        print("figure".padding(toLength: 36, withPad: " ", startingAt: 0), "ms".padding(toLength: 10, withPad: " ", startingAt: 0),
              "baseline ms".padding(toLength: 12, withPad: " ", startingAt: 0), "ratio".padding(toLength: 9, withPad: " ", startingAt: 0), "target")
        for f in figures {
            let ratio = f.baselineMilliseconds.map { String(format: "%.1fx", f.milliseconds / $0) } ?? "-"
            print(f.name.padding(toLength: 36, withPad: " ", startingAt: 0),
                  String(format: "%.2f", f.milliseconds).padding(toLength: 10, withPad: " ", startingAt: 0),
                  (f.baselineMilliseconds.map { String(format: "%.2f", $0) } ?? "-").padding(toLength: 12, withPad: " ", startingAt: 0),
                  ratio.padding(toLength: 9, withPad: " ", startingAt: 0), f.target)
        }
        print("baseline: median round trip of GET namespaces/default on a warm HTTPS connection")
        print(String(format: "port-forward throughput (KubeClient, one connection, each way): %.0f MB/s", megabytesPerSecond))
        if !throughput.isEmpty {
            print(String(repeating: "-", count: 86))
            print("throughput (256 MiB echoed, one connection)".padding(toLength: 44, withPad: " ", startingAt: 0),
                  "MB/s".padding(toLength: 10, withPad: " ", startingAt: 0), "baseline MB/s".padding(toLength: 14, withPad: " ", startingAt: 0), "ratio")
            for t in throughput {
                print(t.name.padding(toLength: 44, withPad: " ", startingAt: 0),
                      String(format: "%.0f", t.megabytesPerSecond).padding(toLength: 10, withPad: " ", startingAt: 0),
                      (t.baselineMegabytesPerSecond.map { String(format: "%.0f", $0) } ?? "-").padding(toLength: 14, withPad: " ", startingAt: 0),
                      t.baselineMegabytesPerSecond.map { String(format: "%.2f", t.megabytesPerSecond / $0) } ?? "-")
            }
            print("baseline: a kernel TCP connection from a pod's network namespace straight to the echo pod's IP")
        }
        if let jsonPath {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(figures).write(to: URL(fileURLWithPath: jsonPath))
        }
    }

    /// What is being measured now, on stderr (the figures come at the end, on stdout).
    static func progress(_ text: String) {
        FileHandle.standardError.write(Data("sandbox-bench: \(text)\n".utf8))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func median(runs: Int, _ body: @Sendable () async throws -> Void) async throws -> Double {
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try await body()
            samples.append(milliseconds(ContinuousClock.now - start))
        }
        return samples.sorted()[runs / 2]
    }

    /// Runs `sandbox-cluster ARGUMENTS` to its end without blocking a thread of the cooperative
    /// pool (the in-process servers of the earlier figures share it).
    static func runAsync(_ executable: URL, _ arguments: [String], timeout: Duration = .seconds(60)) async throws {
        let output: ChildProcess.Output
        do {
            output = try await ChildProcess.run(
                executable: executable.path, arguments: arguments, environment: ProcessInfo.processInfo.environment, timeout: timeout)
        } catch ChildProcess.RunError.timedOut {
            throw BenchError(message: "sandbox-cluster \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        guard output.status == 0 else {
            throw BenchError(message: "sandbox-cluster \(arguments.joined(separator: " ")) exited \(output.status): \(String(decoding: output.stderr, as: UTF8.self))")
        }
    }

    /// Writes `total` bytes into a port-forward stream to an echo while reading them back;
    /// MB/s of the echoed bytes.
    static func echo(through stream: PortForwardStream, total: Int) async throws -> Double {
        let chunk = ByteBuffer(repeating: 0x5a, count: 256 << 10)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var sent = 0
                while sent < total {
                    try await stream.write(chunk)
                    sent += chunk.readableBytes
                }
            }
            group.addTask {
                var received = 0
                for try await part in stream.inbound {
                    received += part.readableBytes
                    if received >= total { break }
                }
                guard received >= total else { throw BenchError(message: "the port-forward stream ended after \(received) of \(total) bytes") }
            }
            try await group.waitForAll()
        }
        return Double(total) / 1e6 / (milliseconds(ContinuousClock.now - start) / 1000)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// The pod runtime of the port-forward figure: every port of every pod is one local listener.
struct LoopbackRuntime: PodRuntime {
    let port: Int
    func connect(namespace: String, pod: String, port: Int) async throws -> Int32 {
        try blockingConnect(host: "127.0.0.1", port: self.port)
    }
    func exec(_ request: ExecRequest) async throws -> ExecProcess { throw PodRuntimeError.noProcesses }
    func logFile(namespace: String, pod: String, container: String, previous: Bool) throws -> URL? { nil }
}

/// Sends back what it receives.
final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
