import AgentConfig
import NIOCore
import NIOPosix
import NetworkAddress
import Synchronization
import Testing
import TestSupport
import Tunnel
@testable import TrafficAgent

/// An agent with one TCP port (app: an echo server answering "app:"-less echoes) and a
/// workstation server the test client dials for intercepted connections.
struct InterceptFixture {
    let group: MultiThreadedEventLoopGroup
    let app: any Channel
    let workstation: any Channel
    let plane: AgentDataPlane
    let config: AgentConfig

    var agentPort: Int { config.containers[0].intercepts[0].agentPort }
    var workstationPort: Int { workstation.localAddress!.port! }

    static func start(claimWait: TimeAmount = .seconds(5)) async throws -> InterceptFixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let app = try await GreeterServer(group: group, greeting: "from the app").channel
        let workstation = try await echoServer(group: group)
        let config = testConfig(agentPort: try freePort(), containerPort: app.localAddress!.port!, tunnelPort: 0)
        let plane = try await AgentDataPlane.start(config: config, loop: group.next(), host: "127.0.0.1", claimWait: claimWait)
        return InterceptFixture(group: group, app: app, workstation: workstation, plane: plane, config: config)
    }

    func intercept(session: String = "client-1", state: InterceptAssignment.State = .active, targetPort: Int? = nil) async throws -> [InterceptReview] {
        try await plane.update(snapshot: [assignment(session: session, state: state, agentPort: agentPort, targetPort: targetPort ?? workstationPort)]).get()
    }

    func stop() async {
        await plane.close()
        try? await app.close()
        try? await workstation.close()
        try? await group.shutdownGracefully()
    }
}

@Suite("Intercepts: claims, and connections carried to the client's workstation")
struct InterceptTunnelTests {
    @Test func aClaimIsAcceptedOnlyForASessionHoldingAnInterceptHere() async throws {
        let fixture = try await InterceptFixture.start()
        let client = try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort)
        // No intercept yet: refused, as prohibited, saying why.
        let refused = try await client.claim("client-1")
        guard case .refused(.prohibited, let message) = refused else {
            Issue.record("claim without an intercept: \(refused)")
            await fixture.stop()
            return
        }
        #expect(message.contains("client-1"))
        #expect(try await fixture.intercept(state: .waiting) == [InterceptReview(id: "client-1:echo", verdict: .active)])
        #expect(try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort).claim("client-2") != .accepted)
        #expect(try await client.claim("client-1") == .accepted)
        // Any other stream the client opens is refused.
        let other = TunnelFlow(transport: .tcp, source: .unspecified(.v4), destination: TunnelEndpoint(address: .v4(.loopback), port: UInt16(fixture.agentPort)))
        guard case .refused(.prohibited, _) = try await client.open(other) else {
            Issue.record("the agent accepted a stream that is no claim")
            await fixture.stop()
            return
        }
        await client.close()
        await fixture.stop()
    }

    @Test func anInterceptedConnectionReachesTheWorkstationWithItsFirstBytes() async throws {
        let fixture = try await InterceptFixture.start()
        _ = try await fixture.intercept()
        let client = try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort)
        #expect(try await client.claim("client-1") == .accepted)

        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: "GET / HTTP/1.1\r\n\r\n")
        try await waitUntil("the workstation's echo") { probe.text == "GET / HTTP/1.1\r\n\r\n" }
        try await connection.close(mode: .output)
        try await waitUntil("the workstation's half-close") { probe.eof || probe.closed }
        #expect(!probe.wasReset)
        let open = try #require(client.opens.first)
        #expect(open.flow.destination == TunnelEndpoint(address: .v4(.loopback), port: UInt16(fixture.workstationPort)))
        #expect(String(buffer: open.initialData) == "GET / HTTP/1.1\r\n\r\n", "the first bytes ride in the OPEN")
        await client.close()
        await fixture.stop()
    }

    @Test func aRefusedWorkstationDialResetsTheClusterConnectionAtOnce() async throws {
        let fixture = try await InterceptFixture.start()
        _ = try await fixture.intercept(targetPort: try freePort())
        let client = try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort)
        #expect(try await client.claim("client-1") == .accepted)
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        try await connection.writeAndFlush(ByteBuffer(string: "hello?"))
        try await waitUntil("the reset", timeout: .seconds(10)) { probe.closed }
        #expect(probe.wasReset)
        await client.close()
        await fixture.stop()
    }

    @Test func removingTheInterceptSendsNewConnectionsToTheApp() async throws {
        let fixture = try await InterceptFixture.start()
        _ = try await fixture.intercept()
        let client = try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort)
        #expect(try await client.claim("client-1") == .accepted)
        let (intercepted, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        try await intercepted.writeAndFlush(ByteBuffer(string: "to the workstation"))
        try await waitUntil("the workstation's echo") { probe.text == "to the workstation" }

        #expect(try await fixture.plane.update(snapshot: []).get().isEmpty)
        let (_, direct) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        try await waitUntil("the app's greeting") { direct.text == "from the app" }
        await client.close()
        await fixture.stop()
    }

    /// A client whose tunnel dropped (its port-forward was cut) claims again: connections made
    /// meanwhile wait for it, rather than reaching the app.
    @Test func aConnectionWaitsForTheClaimThenIsCarried() async throws {
        let fixture = try await InterceptFixture.start()
        _ = try await fixture.intercept()
        let lost = try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort)
        #expect(try await lost.claim("client-1") == .accepted)
        await lost.close()
        try await waitUntil("the claim to end with the tunnel") {
            !(try await fixture.plane.routerSnapshot().get().claimedSessions.contains("client-1"))
        }
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        try await connection.writeAndFlush(ByteBuffer(string: "early"))
        let client = try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort)
        #expect(try await client.claim("client-1") == .accepted)
        try await waitUntil("the held connection's echo from the workstation") { probe.text == "early" }
        #expect(!probe.wasReset)
        await client.close()
        await fixture.stop()
    }

    @Test func withoutAClaimTheConnectionIsResetAfterTheWait() async throws {
        let fixture = try await InterceptFixture.start(claimWait: .milliseconds(300))
        _ = try await fixture.intercept()
        // Before the client's first claim, the app answers (the pods' probes pass while the
        // workload rolls; the client claims before its `intercept` returns).
        let (_, first) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        try await waitUntil("the app's greeting") { first.text == "from the app" }

        // A closed tunnel: new connections wait for the claim again, and are reset without it.
        let client = try await TestClient(group: fixture.group, tunnelPort: fixture.plane.tunnelPort)
        #expect(try await client.claim("client-1") == .accepted)
        await client.close()
        try await waitUntil("the claim to end with the tunnel") {
            !(try await fixture.plane.routerSnapshot().get().claimedSessions.contains("client-1"))
        }
        let (_, after) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        try await waitUntil("the reset", timeout: .seconds(15)) { after.closed }
        #expect(after.wasReset)
        await fixture.stop()
    }
}

@Suite("UDP intercepts: datagram flows over the claimed tunnel")
struct UDPInterceptTests {
    @Test func datagramsReachTheWorkstationAndAnswersComeBackThenTheAppAgain() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let workstation = try await udpEchoServer(group: group)
        let app = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPTagger()) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let agentUDP = try freePort()
        let config = testConfig(agentPort: try freePort(), containerPort: 1, tunnelPort: 0, udp: (agentUDP, app.localAddress!.port!))
        let plane = try await AgentDataPlane.start(config: config, loop: group.next(), host: "127.0.0.1")
        let reviews = try await plane.update(snapshot: [
            assignment(id: "client-1:dns", agentPort: agentUDP, protocol: "UDP", targetPort: workstation.localAddress!.port!),
        ]).get()
        #expect(reviews == [InterceptReview(id: "client-1:dns", verdict: .active)])
        let client = try await TestClient(group: group, tunnelPort: plane.tunnelPort)
        #expect(try await client.claim("client-1") == .accepted)

        let answers = UDPAnswers()
        let peer = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPCollector(answers)) } }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = peer.localAddress!.port!
        let agent = try SocketAddress(ipAddress: "127.0.0.1", port: agentUDP)
        try await peer.writeAndFlush(AddressedEnvelope(remoteAddress: agent, data: ByteBuffer(string: "query 1")))
        try await waitUntil("the workstation's echo") { answers.received.withLock { $0 }.contains("\(port):query 1") }
        try await peer.writeAndFlush(AddressedEnvelope(remoteAddress: agent, data: ByteBuffer(string: "query 2")))
        try await waitUntil("the second echo on the same flow") { answers.received.withLock { $0 }.contains("\(port):query 2") }
        #expect(client.opens.count == 1 && client.opens.first?.flow.transport == .udp)
        #expect(String(buffer: client.opens.first!.initialData) == "query 1", "the first datagram rides in the OPEN")

        // The intercept ends: the same peer's next datagram goes to the app.
        _ = try await plane.update(snapshot: []).get()
        try await peer.writeAndFlush(AddressedEnvelope(remoteAddress: agent, data: ByteBuffer(string: "query 3")))
        try await waitUntil("the app's answer") { answers.received.withLock { $0 }.contains("\(port):app:query 3") }

        try await peer.close()
        await client.close()
        await plane.close()
        try await app.close()
        try await workstation.close()
        try await group.shutdownGracefully()
    }
}

/// A UDP server that answers "app:" + the datagram.
final class UDPTagger: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var answer = ByteBuffer(string: "app:")
        var bytes = envelope.data
        answer.writeBuffer(&bytes)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: answer)), promise: nil)
    }
}
