import Foundation
import KubeClient
import Synchronization
import TestSupport
import Testing
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

extension HostRequirement {
    /// What the cluster network's tests need: root, iproute2 and nftables (network namespaces,
    /// veths, the services' table).
    static let clusterNetwork = HostRequirement("root, iproute2 and nftables") {
        ClusterTopology.isSupported ? nil : "network namespaces cannot be made here (not root, or no ip/nft); run the tests as root with ./scripts/test"
    }
}

/// A unique, short cluster name per test (namespaces, /etc/netns entries carry it).
func testClusterName(_ tag: String) -> String {
    "t\(getpid() % 100_000)\(tag)"
}

/// Runs a command (no shell) with a deadline; returns its exit status and combined output.
/// A command still running at the deadline is killed and reported as status -1.
@discardableResult
func runCommand(_ arguments: [String], environment: [String: String] = [:], timeout: Double = 30) async throws -> (status: Int32, output: String) {
    let result = try await ProcessRunner.run(arguments, environment: environment, timeout: .milliseconds(Int64(timeout * 1000)))
    return (result.status, result.combined)
}

/// Polls `condition` until it holds or `seconds` pass.
func waitFor(_ seconds: Double = 5, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Asserts that nothing of cluster `name` is left in the kernel or on disk.
func expectNothingLeft(cluster name: String, processes: [Int32] = [], sourceLocation: SourceLocation = #_sourceLocation) {
    let prefix = ClusterNames(cluster: name).prefix
    let namespaces = ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0.hasPrefix(prefix) }
    #expect(namespaces.isEmpty, "network namespaces left: \(namespaces)", sourceLocation: sourceLocation)
    let etc = ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? []).filter { $0.hasPrefix(prefix) }
    #expect(etc.isEmpty, "/etc/netns entries left: \(etc)", sourceLocation: sourceLocation)
    let alive = processes.filter(ProcessTable.isRunning)
    #expect(alive.isEmpty, "processes left: \(alive)", sourceLocation: sourceLocation)
}

/// An API server with the whole cluster network (topology, service rules, DNS), removed after
/// `body` whatever happens, and checked to leave nothing behind.
struct NetworkedCluster {
    let server: APIServer
    let topology: ClusterTopology
    let network: ClusterNetwork
    let pods: PodRegistry
    var names: ClusterNames { topology.names }

    static func with(_ tag: String, linkDelay: Duration? = nil, _ body: (NetworkedCluster) async throws -> Void) async throws {
        let name = testClusterName(tag)
        let topology = try ClusterTopology.create(cluster: name, linkDelay: linkDelay)
        let pods = PodRegistry()
        var server: APIServer?
        var network: ClusterNetwork?
        do {
            let started = try await APIServer.start(.init(name: name, clusterListener: .init(names: topology.names)))
            server = started
            network = try await ClusterNetwork.start(server: started, topology: topology)
            try await body(NetworkedCluster(server: started, topology: topology, network: network!, pods: pods))
        } catch {
            await network?.stop()
            try? await server?.shutdown()
            await pods.stopAll()
            topology.destroy()
            expectNothingLeft(cluster: name, processes: pods.pids)
            throw error
        }
        await network?.stop()
        try? await server?.shutdown()
        await pods.stopAll()
        topology.destroy()
        expectNothingLeft(cluster: name, processes: pods.pids)
    }

    /// Stores a Service (with a fixed ClusterIP, or "None") and, when `endpoints` is given, its
    /// Endpoints (Ready addresses, ports named as the service's).
    func addService(
        _ name: String, namespace: String = "default", clusterIP: String, ports: [(name: String, port: Int, target: Int, proto: String)],
        endpoints: [String]?
    ) throws {
        let servicePorts: [JSONValue] = ports.map {
            ["name": .string($0.name), "port": .number(Double($0.port)), "targetPort": .number(Double($0.target)), "protocol": .string($0.proto)]
        }
        try server.store.create(ResourceCatalog.services, [
            "metadata": ["name": .string(name), "namespace": .string(namespace)],
            "spec": ["clusterIP": .string(clusterIP), "ports": .array(servicePorts)],
        ])
        guard let endpoints else { return }
        try setEndpoints(name, namespace: namespace, addresses: endpoints, ports: ports.map { ($0.name, $0.target, $0.proto) })
    }

    func setEndpoints(_ name: String, namespace: String = "default", addresses: [String], ports: [(name: String, port: Int, proto: String)]) throws {
        let subset: JSONValue = [
            "addresses": .array(addresses.map { ["ip": .string($0)] }),
            "ports": .array(ports.map { ["name": .string($0.name), "port": .number(Double($0.port)), "protocol": .string($0.proto)] }),
        ]
        let value: JSONValue = ["metadata": ["name": .string(name), "namespace": .string(namespace)], "subsets": [subset]]
        if server.store.get(ResourceCatalog.endpoints, namespace: namespace, name: name) == nil {
            try server.store.create(ResourceCatalog.endpoints, value)
        } else {
            try server.store.update(ResourceCatalog.endpoints, namespace: namespace, name: name) { _ in value }
        }
    }

    /// A test pod: its own network namespace on the bridge with `ip`, a resolv.conf with the
    /// cluster search path, and a kernel TCP+UDP server on `port` that answers with its name.
    func startPod(_ name: String, ip: String, namespace: String = "default", port: Int = 8080) async throws -> TestPod {
        let uid = String(format: "%08x", UInt32(truncatingIfNeeded: name.hashValue))
        let netns = names.podNamespace(uid: uid)
        let veth = names.podVeth(uid: uid)
        try SystemCommand.run(["ip", "netns", "add", netns])
        try SystemCommand.run(["ip", "-n", names.nodeNamespace, "-batch", "-"], input: """
            link add \(veth) type veth peer name \(ClusterNames.podInterface) netns \(netns)

            """ + ClusterTopology.attachPodVeth(veth))
        try SystemCommand.run(["ip", "-n", netns, "-batch", "-"], input: """
            link set lo up
            addr add \(ip)/16 dev \(ClusterNames.podInterface)
            link set \(ClusterNames.podInterface) up
            route add default via \(ClusterAddresses.nodeBridge)

            """)
        try FileManager.default.createDirectory(atPath: "/etc/netns/\(netns)", withIntermediateDirectories: true)
        try ClusterNetwork.podResolvConf(namespace: namespace).write(toFile: "/etc/netns/\(netns)/resolv.conf", atomically: true, encoding: .utf8)
        pods.add(try ProcessRunner.start(["ip", "netns", "exec", netns, "python3", "-c", TestPod.serverScript, name, String(port)]))
        let pod = TestPod(name: name, ip: ip, netns: netns, port: port)
        let dialer = NodeDialer(namespace: names.nodeNamespace)
        let listening = await waitFor(10) {
            guard let fd = try? await dialer.connect(host: ip, port: port) else { return false }
            close(fd)
            return true
        }
        try #require(listening, "the test pod \(name) did not listen on \(ip):\(port)")
        return pod
    }
}

/// The processes the test pods run, stopped at the end.
final class PodRegistry: Sendable {
    private let processes = Mutex<[ProcessRunner.Background]>([])
    func add(_ process: ProcessRunner.Background) { processes.withLock { $0.append(process) } }
    var pids: [Int32] { processes.withLock { $0.map(\.pid) } }
    func stopAll() async {
        for process in processes.withLock({ $0 }) { await process.stop() }
    }
}

struct TestPod {
    let name: String
    let ip: String
    let netns: String
    let port: Int

    /// Runs a command inside the pod's namespaces (network, and /etc/resolv.conf via ip netns).
    func run(_ arguments: [String], timeout: Double = 30) async throws -> (status: Int32, output: String) {
        try await runCommand(["ip", "netns", "exec", netns] + arguments, timeout: timeout)
    }

    /// `count` requests from this pod to `host:port` (a new connection or socket each); one
    /// answer (the server's name, or "error: …") per line.
    func ask(_ proto: String, _ host: String, _ port: Int, count: Int = 1) async throws -> [String] {
        let (_, output) = try await run(["python3", "-c", Self.clientScript, proto, host, String(port), String(count)])
        return output.split(separator: "\n").map(String.init)
    }

    static let serverScript = """
        import socket, sys, threading
        name, port = sys.argv[1], int(sys.argv[2])
        def udp():
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("0.0.0.0", port))
            while True:
                data, peer = u.recvfrom(2048)
                u.sendto(name.encode(), peer)
        threading.Thread(target=udp, daemon=True).start()
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen(64)
        while True:
            c, _ = s.accept()
            c.sendall((name + "\\n").encode())
            c.close()
        """

    static let clientScript = """
        import socket, sys
        proto, host, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        for _ in range(count):
            try:
                if proto == "tcp":
                    s = socket.create_connection((host, port), timeout=2)
                    print(s.makefile().readline().strip(), flush=True)
                    s.close()
                else:
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    u.settimeout(2)
                    u.sendto(b"hi", (host, port))
                    print(u.recvfrom(2048)[0].decode(), flush=True)
                    u.close()
            except Exception as e:
                print("error:", type(e).__name__, e, flush=True)
        """
}
