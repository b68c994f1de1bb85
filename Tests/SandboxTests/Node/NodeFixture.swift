import ChildProcess
import Foundation
import KubeClient
import LinuxNet
import TestSupport
import Testing
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// An in-process API server with the process node over a node network namespace made here
/// (what `sandbox-cluster up` makes in the real topology), for one test. Afterwards it asserts
/// that the test left no pod namespace, process or mount behind.
struct NodeFixture {
    let server: APIServer
    let names: ClusterNames
    let state: URL

    var api: KubernetesAPI { server.api }
    var runtime: any PodRuntime { server.api.node.runtime }

    /// The network namespaces the pods of `namespace` (nil: every namespace) should have.
    func podNamespaces(in namespace: String?) -> Set<String> {
        Set(api.store.list(ResourceCatalog.pods, namespace: namespace).items.map { names.podNamespace(uid: $0.object.uid) })
    }

    /// Whether this machine can run the process node's tests (root, network namespaces, ip).
    static let canRun: Bool = {
        getuid() == 0 && ChildProcess.locate("ip") != nil
            && FileManager.default.fileExists(atPath: "/proc/self/ns/net")
    }()
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }
    /// Run where possible, and always under CI (where a missing capability must fail).
    static var enabled: Bool { canRun || isCI }

    static func with(backOff: Duration = .milliseconds(200), _ body: (NodeFixture) async throws -> Void) async throws {
        guard canRun else {
            Issue.record("the process node's tests need root, network namespaces and the ip tool (Debian: iproute2)")
            return
        }
        let names = ClusterNames(cluster: "nd\(UUID().uuidString.prefix(6).lowercased())")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-node-\(names.cluster)")
        let state = root.appendingPathComponent("state")
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try await createNodeNamespace(names)
        var failure: (any Error)?
        do {
            let options = ProcessNodeOptions(cluster: names.cluster, stateDirectory: state, restartBackOff: backOff, maximumBackOff: backOff * 4)
            let server = try await APIServer.start(.init(name: names.cluster, node: .process(options)))
            do {
                try await body(NodeFixture(server: server, names: names, state: state))
            } catch {
                failure = error
            }
            try await server.shutdown()
        } catch {
            failure = failure ?? error
        }
        await removeNodeNamespace(names)
        // Nothing may outlive the test.
        let leftNamespaces = PodNetwork.namespaces().filter { $0.hasPrefix(names.prefix) }
        #expect(leftNamespaces.isEmpty, "network namespaces left: \(leftNamespaces)")
        let processes = processesUsing(state.path)
        #expect(processes.isEmpty, "processes left: \(processes)")
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8))?
            .split(separator: "\n").filter { $0.contains(names.cluster) } ?? []
        #expect(mounts.isEmpty, "mounts left: \(mounts)")
        if let failure { throw failure }
    }

    static func createNodeNamespace(_ names: ClusterNames) async throws {
        let node = names.nodeNamespace
        try await SystemTool.runOnOwnThread(["ip", "netns", "add", node])
        try await SystemTool.runOnOwnThread(["ip", "-n", node, "-batch", "-"], input: """
            link set lo up
            link add \(ClusterNames.bridge) address \(ClusterTopology.bridgeAddress) type bridge
            addr add \(ClusterAddresses.nodeBridge)/16 dev \(ClusterNames.bridge)
            link set \(ClusterNames.bridge) up

            """)
        try await SystemTool.runOnOwnThread(["ip", "netns", "exec", node, "/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"])
    }

    static func removeNodeNamespace(_ names: ClusterNames) async {
        PodNetwork.removeNamespace(names.nodeNamespace)
    }

    /// Pids whose command line or mounts name `path` (a container or its launcher).
    static func processesUsing(_ path: String) -> [Int32] {
        ProcessTable.processes { $0.commandLine.contains(path) || $0.mountInfo.contains(path) }
    }

    // MARK: Helpers

    @discardableResult
    func create(_ resource: ResourceType, _ object: JSONValue) throws -> StoredObject {
        try api.createObject(resource, object)
    }

    func pod(_ name: String, namespace: String = "default") -> JSONValue? {
        api.store.get(ResourceCatalog.pods, namespace: namespace, name: name)?.value
    }

    /// Polls the pod until `condition` holds; the pod as it then is.
    @discardableResult
    func waitForPod(
        _ name: String, namespace: String = "default", timeout: Duration = .seconds(20),
        poll: Duration = .milliseconds(10), _ condition: (JSONValue) -> Bool
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let pod = pod(name, namespace: namespace), condition(pod) { return pod }
            try await Task.sleep(for: poll)
        }
        let last = pod(name, namespace: namespace)
        Issue.record("pod \(name) did not reach the expected state within \(timeout); status: \(String(describing: last?["status"]))")
        throw Timeout()
    }

    struct Timeout: Error {}

    /// The container's log text (CRI records stripped to their text).
    func log(_ pod: String, _ container: String, previous: Bool = false) throws -> String {
        guard let url = try runtime.logFile(namespace: "default", pod: pod, container: container, previous: previous) else { return "" }
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { line in
            line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(3).first.map(String.init) ?? ""
        }.joined(separator: "\n")
    }

    /// An HTTP GET from the node's network namespace; the response body.
    func httpGet(_ host: String, port: Int, path: String = "/") async throws -> String {
        let fd = try await connectInNamespace(PodNetwork.path(names.nodeNamespace), host: host, port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return readAll(fd, sending: "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
            .components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    }

    func readAll(_ fd: Int32, sending request: String) -> String {
        _ = request.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func echoPod(_ name: String, env: JSONValue = []) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": "default", "labels": ["app": .string(name)]],
            "spec": ["containers": [[
                "name": "echo", "image": "sandbox.local/echo:1.0", "env": env,
                "ports": [["name": "http", "containerPort": 8080]],
            ]]],
        ]
    }

    static func shellPod(_ name: String, script: String, restartPolicy: String = "Never", extra: [String: JSONValue] = [:], container: [String: JSONValue] = [:]) -> JSONValue {
        var containerSpec: JSONValue = ["name": "main", "image": "busybox:1.36", "command": ["sh", "-c", .string(script)]]
        for (key, value) in container { containerSpec[key] = value }
        var spec: JSONValue = ["restartPolicy": .string(restartPolicy), "terminationGracePeriodSeconds": 5, "containers": [containerSpec]]
        for (key, value) in extra { spec[key] = value }
        return ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name), "namespace": "default"], "spec": spec]
    }
}

extension JSONValue {
    var phase: String? { self["status"]?["phase"]?.stringValue }
    func condition(_ type: String) -> String? {
        (self["status"]?["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }?["status"]?.stringValue
    }
    var firstContainer: JSONValue? { self["status"]?["containerStatuses"]?[0] }
}
