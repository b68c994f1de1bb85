import AgentConfig
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import TrafficAgent

@Suite("Pass-through: without an intercept the agent's ports reach the app unchanged")
struct PassThroughTests {
    @Test func tcpBytesAndHalfClosesReachTheAppAndBack() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await echoServer(group: group)
        let greeter = try await GreeterServer(group: group, greeting: "hello from the app")
        let config = AgentConfig(
            agentName: "echo", namespace: "default", workloadName: "echo", workloadKind: "Deployment", agentImage: "x",
            managerHost: "127.0.0.1", tunnelPort: 0,
            containers: [AgentConfig.Container(name: "app", envPrefix: "A_", mountPoint: "/m", intercepts: [
                .init(serviceName: "echo", serviceUID: "u", servicePortName: "tcp", servicePort: 9000, protocol: "TCP", targetPortNumeric: false,
                      containerPortName: "tcp", containerPort: echo.localAddress!.port!, agentPort: try freePort()),
                .init(serviceName: "echo", serviceUID: "u", servicePortName: "greet", servicePort: 9001, protocol: "TCP", targetPortNumeric: false,
                      containerPortName: "greet", containerPort: greeter.port, agentPort: try freePort()),
            ])])
        let plane = try await AgentDataPlane.start(config: config, loop: group.next(), host: "127.0.0.1")
        defer { Task { await plane.close(); try? await echo.close(); try? await greeter.channel.close(); try? await group.shutdownGracefully() } }

        // The client speaks and half-closes; the app's echo and its half-close come back.
        let echoPort = config.containers[0].intercepts[0].agentPort
        let (client, probe) = try await Probe.connect(group: group, port: echoPort)
        try await client.writeAndFlush(ByteBuffer(string: "ping through the agent"))
        try await waitUntil("the echo") { probe.text == "ping through the agent" }
        try await client.close(mode: .output)
        // The app's FIN after ours: the connection ends in order (a full close, as both are shut).
        try await waitUntil("the app's half-close") { probe.eof || probe.closed }
        #expect(probe.text == "ping through the agent" && !probe.wasReset)

        // Bytes and the FIN at once, before the agent's dial to the app is up (`echo hi | nc`):
        // the bytes reach the app before the FIN, and the echo comes back.
        let (eager, eagerProbe) = try await Probe.connect(group: group, port: echoPort)
        eager.write(ByteBuffer(string: "hi and bye"), promise: nil)
        eager.flush()
        eager.close(mode: .output, promise: nil)
        do { try await waitUntil("the echo of bytes sent with the FIN", timeout: .seconds(3)) { eagerProbe.text == "hi and bye" } } catch { Issue.record("text \(eagerProbe.text) reset \(eagerProbe.wasReset) eof \(eagerProbe.eof) closed \(eagerProbe.closed)"); throw error }

        // The app half-closes first; the client still sends, and the app gets it.
        let (second, greeted) = try await Probe.connect(group: group, port: config.containers[0].intercepts[1].agentPort)
        try await waitUntil("the greeting and the app's half-close") { greeted.text == "hello from the app" && greeted.eof }
        try await second.writeAndFlush(ByteBuffer(string: "still talking"))
        try await second.close(mode: .output)
        try await waitUntil("the app to get the bytes sent after its half-close, and the FIN") {
            greeter.received == Array("still talking".utf8) && greeter.peerFinished
        }
        try await waitUntil("the connection to close") { greeted.closed }
    }

    @Test func aRefusedAppResetsTheClientsConnection() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let closedPort = try freePort()
        let config = testConfig(agentPort: try freePort(), containerPort: closedPort, tunnelPort: 0)
        let plane = try await AgentDataPlane.start(config: config, loop: group.next(), host: "127.0.0.1")
        defer { Task { await plane.close(); try? await group.shutdownGracefully() } }
        let (_, probe) = try await Probe.connect(group: group, port: config.containers[0].intercepts[0].agentPort)
        try await waitUntil("the connection to be reset") { probe.closed }
        #expect(probe.wasReset, "a refused app must look refused (RST), not like an empty answer (FIN)")
        #expect(probe.text.isEmpty)
    }

    @Test func udpDatagramsReachTheAppAndItsAnswersComeBack() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await udpEchoServer(group: group)
        let agentUDP = try freePort(udp: true)
        let config = testConfig(agentPort: try freePort(), containerPort: 1, tunnelPort: 0, udp: (agentUDP, echo.localAddress!.port!))
        let plane = try await AgentDataPlane.start(config: config, loop: group.next(), host: "127.0.0.1", udpIdleTimeout: .seconds(1))
        defer { Task { await plane.close(); try? await echo.close(); try? await group.shutdownGracefully() } }

        let answers = UDPAnswers()
        let peers = try await (0..<2).asyncMap { _ in
            try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPCollector(answers)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }
        let agent = try SocketAddress(ipAddress: "127.0.0.1", port: agentUDP)
        for (index, peer) in peers.enumerated() {
            try await peer.writeAndFlush(AddressedEnvelope(remoteAddress: agent, data: ByteBuffer(string: "datagram \(index)")))
        }
        try await waitUntil("both peers' echoes") {
            Set(answers.received.withLock { $0 }) == ["\(peers[0].localAddress!.port!):datagram 0", "\(peers[1].localAddress!.port!):datagram 1"]
        }
        #expect(try await plane.udpFlowCount() == 2)
        // After the idle timeout the flows are gone; a new datagram opens a new one.
        try await waitUntil("the idle flows to be closed") { try await plane.udpFlowCount() == 0 }
        try await peers[0].writeAndFlush(AddressedEnvelope(remoteAddress: agent, data: ByteBuffer(string: "again")))
        try await waitUntil("the echo of a datagram after the idle timeout") {
            answers.received.withLock { $0 }.contains("\(peers[0].localAddress!.port!):again")
        }
        for peer in peers { try await peer.close() }
    }
}

final class UDPAnswers: Sendable {
    let received = Mutex<[String]>([])
}

final class UDPCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let answers: UDPAnswers
    init(_ answers: UDPAnswers) { self.answers = answers }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let port = context.channel.localAddress!.port!
        answers.received.withLock { $0.append("\(port):\(String(buffer: envelope.data))") }
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
