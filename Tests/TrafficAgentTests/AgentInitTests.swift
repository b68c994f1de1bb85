import AgentConfig
import Foundation
import LinuxNet
import NIOCore
import NIOPosix
import Testing
import TestSupport
@testable import TrafficAgent

#if canImport(Glibc)
import Glibc
#endif

@Suite("agent-init: nftables redirects of numeric target ports to the agent")
struct AgentInitTests {
    static func config(containerPort: Int, agentPort: Int, numeric: Bool = true) -> AgentConfig {
        AgentConfig(
            agentName: "echo", namespace: "default", workloadName: "echo", workloadKind: "Deployment", agentImage: "x",
            managerHost: "traffic-manager.ambassador",
            containers: [AgentConfig.Container(name: "app", envPrefix: "A_", mountPoint: "/m", intercepts: [
                .init(serviceName: "echo", serviceUID: "u", servicePortName: "", servicePort: 80, protocol: "TCP", targetPortNumeric: numeric,
                      containerPortName: "", containerPort: containerPort, agentPort: agentPort),
                .init(serviceName: "echo", serviceUID: "u", servicePortName: "named", servicePort: 81, protocol: "TCP", targetPortNumeric: false,
                      containerPortName: "named", containerPort: 8081, agentPort: agentPort + 1),
            ])])
    }

    @Test func theRulesetRedirectsOnlyPortsWithoutANameToTakeOver() {
        let script = AgentInit.ruleset(for: Self.config(containerPort: 8080, agentPort: 9900))
        #expect(script.contains("tcp dport 8080 redirect to :9900"))
        #expect(!script.contains("8081"), "a named port is taken over by renaming, not redirected")
        #expect(script.contains("table ip telepresence {\n") && script.contains("table ip6 telepresence {\n"))
        #expect(script.contains("delete table ip telepresence") && script.contains("delete table ip6 telepresence"))
        #expect(script.contains("type nat hook prerouting"))
        #expect(!script.contains("output"), "the agent's own dials to the app must not be redirected")
        let none = AgentInit.ruleset(for: Self.config(containerPort: 8080, agentPort: 9900, numeric: false))
        #expect(!none.contains("redirect"))
    }

    @Test("in a real pod namespace: outside traffic reaches the agent, the agent's own dial the app",
          .enabled(where: .root), .enabled(where: .executable("nft", from: "the Debian package nftables")))
    func redirectsInARealNamespace() async throws {
        try HostRequirement.root.require()
        try await Self.withPodAndPeer { pod, peer, tag, subnet in
            try await redirects(pod: pod, peer: peer, tag: tag, subnet: subnet)
        }
    }

    /// A pod's network namespace and a peer's (another pod, the node) joined by a veth pair on
    /// `subnet`.0/24 (pod .1, peer .2), removed afterwards.
    static func withPodAndPeer(_ body: (String, String, String, String) async throws -> Void) async throws {
        let tag = String(UInt32.random(in: 0..<0xFFFFF), radix: 16)
        let pod = "tpa-pod-\(tag)", peer = "tpa-peer-\(tag)"
        let subnet = "10.\(Int.random(in: 100...200)).\(Int.random(in: 1...250))"
        // The tools run on threads of their own: never block the test pool's threads.
        do {
            try await SystemTool.runOnOwnThread(["ip", "netns", "add", pod])
            try await SystemTool.runOnOwnThread(["ip", "netns", "add", peer])
            try await SystemTool.runOnOwnThread(["ip", "link", "add", "tpa\(tag)a", "netns", pod, "type", "veth", "peer", "name", "tpa\(tag)b", "netns", peer])
            for (ns, device, address) in [(pod, "tpa\(tag)a", "\(subnet).1/24"), (peer, "tpa\(tag)b", "\(subnet).2/24")] {
                try await SystemTool.runOnOwnThread(["ip", "-n", ns, "link", "set", "lo", "up"])
                try await SystemTool.runOnOwnThread(["ip", "-n", ns, "addr", "add", address, "dev", device])
                try await SystemTool.runOnOwnThread(["ip", "-n", ns, "link", "set", device, "up"])
            }
            try await body(pod, peer, tag, subnet)
        } catch {
            _ = try? await SystemTool.runOnOwnThread(["ip", "netns", "del", pod], allowFailure: true)
            _ = try? await SystemTool.runOnOwnThread(["ip", "netns", "del", peer], allowFailure: true)
            throw error
        }
        _ = try? await SystemTool.runOnOwnThread(["ip", "netns", "del", pod], allowFailure: true)
        _ = try? await SystemTool.runOnOwnThread(["ip", "netns", "del", peer], allowFailure: true)
    }

    private func redirects(pod: String, peer: String, tag: String, subnet: String) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let containerPort = 8080, agentPort = 9900
        // The app and the agent listen on every address of the pod; each says who it is.
        let app = try await greeter(
            fd: NetworkNamespace.run(in: pod) { try NetworkNamespace.makeBoundSocket(host: "0.0.0.0", port: containerPort, udp: false) },
            says: "app", group: group)
        let agent = try await greeter(
            fd: NetworkNamespace.run(in: pod) { try NetworkNamespace.makeBoundSocket(host: "0.0.0.0", port: agentPort, udp: false) },
            says: "agent", group: group)
        defer { app.close(promise: nil); agent.close(promise: nil) }

        #expect(try await NetworkNamespace.run(in: peer) { try Self.greeting(from: "\(subnet).1", port: containerPort) } == "app")
        let config = Self.config(containerPort: containerPort, agentPort: agentPort)
        // Twice, as a restarted init container: the rules are replaced, not added again. The
        // second time as the init container runs it: `traffic agent-init` with the mounted config.
        try await NetworkNamespace.run(in: pod) { try AgentInit.install(config) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-init-\(tag).yaml").path
        try config.encoded().write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let traffic = CommandRunner.executable("traffic").path
        let run = try await NetworkNamespace.run(in: pod) {
            try ProcessRunner.runBlocking([traffic, "agent-init"], environment: ["AGENT_CONFIG": path], timeout: .seconds(30))
        }
        #expect(run.status == 0, "traffic agent-init: \(run.combined)")
        let table = try await NetworkNamespace.run(in: pod) { try SystemTool.run(["nft", "list", "table", "ip", "telepresence"]) }
        #expect(table.components(separatedBy: "redirect to :9900").count == 2, "one rule, not two: \(table)")

        #expect(try await NetworkNamespace.run(in: peer) { try Self.greeting(from: "\(subnet).1", port: containerPort) } == "agent")
        #expect(try await NetworkNamespace.run(in: pod) { try Self.greeting(from: "127.0.0.1", port: containerPort) } == "app")
    }

    @Test("a pod as the injector makes it: agent-init, then `traffic agent`, passes outside traffic to the app",
          .enabled(where: .root), .enabled(where: .executable("nft", from: "the Debian package nftables")))
    func agentInAPod() async throws {
        try HostRequirement.root.require()
        try await Self.withPodAndPeer { pod, peer, tag, subnet in
            let containerPort = 8080
            let app = try await greeter(
                fd: NetworkNamespace.run(in: pod) { try NetworkNamespace.makeBoundSocket(host: "0.0.0.0", port: containerPort, udp: false) },
                says: "app", group: MultiThreadedEventLoopGroup.singleton)
            defer { app.close(promise: nil) }
            // No manager answers (port 1): the agent passes traffic through and never turns ready.
            var config = Self.config(containerPort: containerPort, agentPort: 9900)
            config.managerHost = "127.0.0.1"
            config.managerPort = 1
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agent-pod-\(tag)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("config.yaml").path
            let ready = directory.appendingPathComponent("agent/ready").path
            try config.encoded().write(toFile: path, atomically: true, encoding: .utf8)
            let traffic = CommandRunner.executable("traffic").path
            let initRun = try await ProcessRunner.run(["ip", "netns", "exec", pod, traffic, "agent-init"], environment: ["AGENT_CONFIG": path])
            #expect(initRun.status == 0, "traffic agent-init: \(initRun.combined)")

            // Redirected to the agent port, where nothing listens yet: refused.
            let before = try? await NetworkNamespace.run(in: peer) { try Self.greeting(from: "\(subnet).1", port: containerPort) }
            #expect(before == nil)

            let agent = try ProcessRunner.start(
                ["ip", "netns", "exec", pod, traffic, "agent"],
                environment: ["AGENT_CONFIG": path, "AGENT_READY_FILE": ready, "_TEL_AGENT_POD_IP": "\(subnet).1", "_TEL_AGENT_NAME": "echo-1"],
                captureOutput: true)
            do {
                try await waitUntil("the app's answer through the agent", timeout: .seconds(20), pollingEvery: .milliseconds(50)) {
                    (try? await NetworkNamespace.run(in: peer) { try Self.greeting(from: "\(subnet).1", port: containerPort) }) == "app"
                }
                #expect(!FileManager.default.fileExists(atPath: ready), "not ready without a manager")
                _ = kill(agent.pid, SIGTERM)
                try await waitUntil("the agent to end on SIGTERM") { !agent.isRunning }
            } catch {
                await agent.stop()
                Issue.record("traffic agent said: \(agent.output)")
                throw error
            }
        }
    }

    @Test func aMissingOrRefusingNftIsOneClearLine() {
        let error = AgentInitError.refused("Error: Could not process rule: Operation not permitted\nnft -f -")
        #expect(!error.description.contains("\n") && error.description.contains("NET_ADMIN"))
        #expect(AgentInitError.nftMissing.description.contains("nft"))
    }

    private func greeter(fd: Int32, says: String, group: any EventLoopGroup) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(OneLine(text: says))
                }
            }
            .withBoundSocket(fd).get()
    }

    /// Connects (blocking, on the calling thread's namespace) and reads until EOF.
    static func greeting(from host: String, port: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw GreetingError(reason: "connect to \(host):\(port): \(String(cString: strerror(errno)))") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    struct GreetingError: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    final class OneLine: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let text: String
        init(text: String) { self.text = text }
        func channelActive(context: ChannelHandlerContext) {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
