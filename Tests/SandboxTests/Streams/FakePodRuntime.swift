import ChildProcess
import Foundation
import KubeClient
import NIOCore
import NIOPosix
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode
import Synchronization
import TestSupport

/// A pod runtime for tests, without namespaces: a pod's port is a listener on 127.0.0.1 (by a
/// port map), exec runs a local process with pipes, and logs are files the test writes.
final class FakePodRuntime: PodRuntime, Sendable {
    private struct State {
        var ports: [Int: Int] = [:]
        var logs: [String: URL] = [:]
        var execs: [ExecRequest] = []
    }
    private let state = Mutex(State())

    /// Makes `port` of every pod lead to `localPort` on 127.0.0.1.
    func map(port: Int, to localPort: Int) { state.withLock { $0.ports[port] = localPort } }

    func setLog(pod: String, container: String, previous: Bool = false, file: URL) {
        state.withLock { $0.logs["\(pod)/\(container)/\(previous)"] = file }
    }

    var execRequests: [ExecRequest] { state.withLock { $0.execs } }

    func connect(namespace: String, pod: String, port: Int) async throws -> Int32 {
        guard let local = state.withLock({ $0.ports[port] }) else {
            throw PodRuntimeError.connectionRefused(pod: pod, port: port)
        }
        do {
            return try blockingConnect(host: "127.0.0.1", port: local)
        } catch {
            throw PodRuntimeError.connectionRefused(pod: pod, port: port)
        }
    }

    func exec(_ request: ExecRequest) async throws -> ExecProcess {
        state.withLock { $0.execs.append(request) }
        guard let executable = Self.find(request.command[0]) else {
            throw PodRuntimeError.executableNotFound(request.command[0])
        }
        // Pipes close on exec: the child gets only the ends spawn maps to 0, 1 and 2.
        let output = try ChildProcess.pipe(), errors = try ChildProcess.pipe()
        let input = request.stdin ? try ChildProcess.pipe() : nil
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let pid = try ChildProcess.spawn(ChildProcess.Launch(
            executable: executable, arguments: Array(request.command.dropFirst()),
            stdin: input?.read ?? null, stdout: output.write, stderr: errors.write))
        // Our copies of the child's ends must go, or the pipes never see EOF.
        close(output.write)
        close(errors.write)
        if let input { close(input.read) }
        let exit = ExitWaiter()
        Task { exit.finish(await ChildProcess.waitForExit(pid)) }
        return ExecProcess(pid: pid, stdin: input?.write, stdout: output.read, stderr: errors.read, wait: { await exit.wait() })
    }

    func logFile(namespace: String, pod: String, container: String, previous: Bool) throws -> URL? {
        state.withLock { $0.logs["\(pod)/\(container)/\(previous)"] }
    }

    static func find(_ command: String) -> String? {
        if command.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        for dir in ["/usr/bin", "/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(command)") {
            return "\(dir)/\(command)"
        }
        return nil
    }
}

/// The exit code of a process, awaited once it is known.
final class ExitWaiter: Sendable {
    private let state = Mutex<(code: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    func finish(_ code: Int32) {
        let waiters = state.withLock { s -> [CheckedContinuation<Int32, Never>] in
            s.code = code
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: code) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let code: Int32? = state.withLock { s in
                if let code = s.code { return code }
                s.waiters.append(continuation)
                return nil
            }
            if let code { continuation.resume(returning: code) }
        }
    }
}

/// A TCP echo server on 127.0.0.1 (the "pod's" port), closed by `close()`.
struct EchoServer {
    let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    static func start() async throws -> EchoServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return EchoServer(channel: channel)
    }

    func close() async { try? await channel.close() }
}

private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// Helpers to put pods into a test cluster and run tools against it.
extension TestCluster {
    var api: KubernetesAPI { server.api }

    /// Creates a pod (the virtual node marks it Running) and waits until it runs.
    @discardableResult
    func runningPod(_ name: String, containers: [String] = ["app"], annotations: [String: String] = [:]) async throws -> StoredObject {
        var pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": "default"],
            "spec": ["containers": .array(containers.map { ["name": .string($0), "image": "app:1"] })],
        ]
        if !annotations.isEmpty { pod["metadata"]?["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        // The controllers see only pods created after they subscribed, which is when the node appears.
        try await eventually(.seconds(5), "the virtual node") { !api.store.list(ResourceCatalog.nodes, namespace: nil).items.isEmpty }
        _ = try api.createObject(ResourceCatalog.pods, pod)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if let stored = api.store.get(ResourceCatalog.pods, namespace: "default", name: name),
               stored.value["status"]?["phase"]?.stringValue == "Running" { return stored }
            try await Task.sleep(for: .milliseconds(10))
        }
        let status = api.store.get(ResourceCatalog.pods, namespace: "default", name: name).map { String(decoding: $0.bytes, as: UTF8.self) } ?? "missing"
        throw StreamTestError("pod \(name) did not become Running within 5 s: \(status)")
    }

    func client() throws -> KubeClient {
        KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: kubeconfig.path)))
    }

    /// Runs a Python script with the kubeconfig as its first argument; returns (status, output).
    func python(_ script: String, timeout: Duration = .seconds(60)) async throws -> (Int32, String) {
        let file = directory.appendingPathComponent("script-\(UUID().uuidString.prefix(8)).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        return try await runProcess("/usr/bin/env", [PythonClientTests.python, file.path, kubeconfig.path], timeout: timeout)
    }
}

struct StreamTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a process to its end (killed at the deadline) with TestSupport's runner; returns its
/// status and output (stdout, then stderr).
func runProcess(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> (Int32, String) {
    let output = try await ProcessRunner.run([executable] + arguments, environment: environment, stdin: stdin, timeout: timeout)
    if output.timedOut { throw StreamTestError("\(arguments.prefix(3).joined(separator: " ")) did not end within \(timeout)") }
    return (output.status, output.combined)
}
