import AgentConfig
import HTTPRouting
import NIOCore
import NIOPosix
import RPC
import Synchronization
import Testing
import TestSupport
import Tunnel
@testable import TrafficAgent

/// An agent whose port's app is an HTTP server ("app"), and workstations for alice, bob and a
/// wiretap, each behind its own client's claimed tunnel.
struct HTTPFixture {
    let group: MultiThreadedEventLoopGroup
    let app: HTTPTestServer
    let plane: AgentDataPlane
    let config: AgentConfig
    var servers: [HTTPTestServer] = []
    var clients: [TestClient] = []

    var agentPort: Int { config.containers[0].intercepts[0].agentPort }

    static func start(appPort: Int? = nil) async throws -> HTTPFixture {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let app = try await HTTPTestServer(group: group, name: "app")
        let config = testConfig(agentPort: try freePort(), containerPort: appPort ?? app.port, tunnelPort: 0)
        let plane = try await AgentDataPlane.start(config: config, loop: group.next(), host: "127.0.0.1", claimWait: .seconds(2))
        return HTTPFixture(group: group, app: app, plane: plane, config: config)
    }

    /// A workstation server for `session` and its claimed tunnel; returns its engagement.
    mutating func workstation(_ session: String, kind: EngagementKind = .intercept, filter: HTTPFilter?,
                              readsNothing: Bool = false) async throws -> (InterceptAssignment, HTTPTestServer) {
        let server = try await HTTPTestServer(group: group, name: session, readsNothing: readsNothing)
        servers.append(server)
        let engagement = InterceptAssignment(
            id: "\(session):echo", clientSession: session, state: .active, containerName: "app", agentPort: agentPort,
            protocol: "TCP", targetHost: "127.0.0.1", targetPort: server.port, kind: kind, filter: filter)
        return (engagement, server)
    }

    mutating func engage(_ engagements: [InterceptAssignment]) async throws {
        let reviews = try await plane.update(snapshot: engagements).get()
        #expect(reviews.allSatisfy { $0.verdict == .active }, "\(reviews)")
        for engagement in engagements {
            let client = try await TestClient(group: group, tunnelPort: plane.tunnelPort)
            #expect(try await client.claim(engagement.clientSession) == .accepted)
            clients.append(client)
        }
    }

    func stop() async {
        for client in clients { await client.close() }
        await plane.close()
        await app.close()
        for server in servers { await server.close() }
        try? await group.shutdownGracefully()
    }
}

func user(_ name: String) -> HTTPFilter { HTTPFilter(headers: [.init(name: "X-User", value: name)]) }

@Suite("HTTP1Router: requests of one connection routed one by one")
struct HTTP1RouterTests {
    @Test func aKeepAliveConnectionsRequestsGoToThreePlacesInOrder() async throws {
        var fixture = try await HTTPFixture.start()
        let (alice, _) = try await fixture.workstation("alice", filter: user("alice"))
        let (bob, _) = try await fixture.workstation("bob", filter: user("bob"))
        try await fixture.engage([alice, bob])

        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        var expected: [String] = []
        for (who, path) in [("alice", "/a"), ("bob", "/b"), (nil, "/c"), ("alice", "/d")] as [(String?, String)] {
            try await connection.writeAndFlush(ByteBuffer(string: get(path, user: who)))
            expected.append("\(who ?? "app"): GET \(path) 0")
            try await waitUntil("the answer to \(path)") { answerLines(probe.text) == expected }
        }
        #expect(!probe.closed, "the connection stays open between requests")
        try await connection.close()
        await fixture.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInTheirOrder() async throws {
        var fixture = try await HTTPFixture.start()
        let (alice, _) = try await fixture.workstation("alice", filter: user("alice"))
        let (bob, _) = try await fixture.workstation("bob", filter: user("bob"))
        try await fixture.engage([alice, bob])

        let who: [String?] = ["bob", "alice", nil, "bob", nil, "alice", "alice", "bob"]
        let text = who.enumerated().map { get("/\($0.offset)", user: $0.element) }.joined()
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: text)
        let expected = who.enumerated().map { "\($0.element ?? "app"): GET /\($0.offset) 0" }
        try await waitUntil("every answer") { answerLines(probe.text).count == expected.count }
        #expect(answerLines(probe.text) == expected)
        try await connection.close()
        await fixture.stop()
    }

    @Test func chunkedBodiesArriveWhole() async throws {
        var fixture = try await HTTPFixture.start()
        let (alice, _) = try await fixture.workstation("alice", filter: user("alice"))
        try await fixture.engage([alice])
        let big = String(repeating: "x", count: 70_000)
        let text = chunkedPost("/up", user: "alice", chunks: ["hello", big, "!"]) + chunkedPost("/up", chunks: ["a", "bc"])
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: text)
        try await waitUntil("both answers") { answerLines(probe.text).count == 2 }
        #expect(answerLines(probe.text) == ["alice: POST /up \(70_006)", "app: POST /up 3"])
        try await connection.close()
        await fixture.stop()
    }

    @Test func expectContinueGetsItsInterimAnswerBeforeTheBody() async throws {
        var fixture = try await HTTPFixture.start()
        let (alice, _) = try await fixture.workstation("alice", filter: user("alice"))
        try await fixture.engage([alice])
        let head = "PUT /file HTTP/1.1\r\nHost: echo\r\nX-User: alice\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: head)
        try await waitUntil("the 100 Continue") { probe.text.hasPrefix("HTTP/1.1 100 Continue\r\n") }
        #expect(answerLines(probe.text).isEmpty, "no final answer before the body")
        try await connection.writeAndFlush(ByteBuffer(string: "body"))
        try await waitUntil("the final answer") { answerLines(probe.text) == ["alice: PUT /file 4"] }
        try await connection.close()
        await fixture.stop()
    }

    @Test func aConnectionThatIsNotHTTPGoesToTheAppUntouched() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await echoServer(group: group)
        var fixture = try await HTTPFixture.start(appPort: echo.localAddress!.port!)
        let (alice, _) = try await fixture.workstation("alice", filter: user("alice"))
        try await fixture.engage([alice])
        let bytes = "\u{16}\u{03}\u{01} not a request line\r\n"
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: bytes)
        try await waitUntil("the app's echo") { probe.text == bytes }
        try await connection.writeAndFlush(ByteBuffer(string: "more"))
        try await waitUntil("the rest") { probe.text == bytes + "more" }
        try await connection.close(mode: .output)
        try await waitUntil("the app's half-close") { probe.eof || probe.closed }
        #expect(!probe.wasReset)
        await fixture.stop()
        try await echo.close()
        try await group.shutdownGracefully()
    }

    @Test func aSwitchOfProtocolsJoinsTheClientAndTheAppByteForByte() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let app = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UpgradingEcho()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        var fixture = try await HTTPFixture.start(appPort: app.localAddress!.port!)
        let (alice, _) = try await fixture.workstation("alice", filter: user("alice"))
        try await fixture.engage([alice])
        let upgrade = "GET /chat HTTP/1.1\r\nHost: echo\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"
        // Bytes after the request, before the answer, are the new protocol's: they wait, then go on.
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: upgrade + "early ")
        try await waitUntil("the 101 and the echo") { probe.text.hasSuffix("\r\n\r\nearly ") }
        #expect(probe.text.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        try await connection.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nX-User: alice\r\n\r\n"))
        try await waitUntil("no longer HTTP: the app echoes even alice's request") { probe.text.hasSuffix("X-User: alice\r\n\r\n") }
        try await connection.close()
        await fixture.stop()
        try await app.close()
        try await group.shutdownGracefully()
    }

    @Test func aWiretapGetsACopyOfEveryRequestWhileTheAppAnswersAll() async throws {
        var fixture = try await HTTPFixture.start()
        let (tap, tapServer) = try await fixture.workstation("tap", kind: .wiretap, filter: HTTPFilter(pathPrefix: "/"))
        try await fixture.engage([tap])
        let text = get("/1") + chunkedPost("/2", chunks: ["abc"]) + get("/3", user: "someone")
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: text)
        let expected = ["GET /1 0", "POST /2 3", "GET /3 0"]
        try await waitUntil("the app's answers") { answerLines(probe.text) == expected.map { "app: " + $0 } }
        try await waitUntil("the wiretap's copies") { tapServer.requests == expected.map { "tap: " + $0 } }
        #expect(!answerLines(probe.text).contains { $0.hasPrefix("tap") }, "the wiretap's answers are discarded")
        try await connection.close()
        await fixture.stop()
    }

    @Test func anUnfilteredWiretapCopiesWholeConnections() async throws {
        var fixture = try await HTTPFixture.start()
        let (tap, tapServer) = try await fixture.workstation("tap", kind: .wiretap, filter: nil)
        try await fixture.engage([tap])
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: get("/x") + get("/y"))
        try await waitUntil("the app's answers") { answerLines(probe.text) == ["app: GET /x 0", "app: GET /y 0"] }
        try await waitUntil("the wiretap's copies") { tapServer.requests == ["tap: GET /x 0", "tap: GET /y 0"] }
        try await connection.close()
        await fixture.stop()
    }

    @Test func aWiretapThatStopsReadingIsCutAndTheAppStaysOnTime() async throws {
        var fixture = try await HTTPFixture.start()
        let (tap, _) = try await fixture.workstation("tap", kind: .wiretap, filter: HTTPFilter(pathPrefix: "/"), readsNothing: true)
        try await fixture.engage([tap])
        let plane = fixture.plane
        let cut = Mutex<EngagementNotice?>(nil)
        let watcher = Task {
            for await notice in plane.notices {
                cut.withLock { $0 = notice }
                return
            }
        }
        let (connection, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort)
        let body = String(repeating: "b", count: 100_000)
        // The agent holds at most 1 MiB per copy; the kernel's buffers and the tunnel's window
        // between it and the workstation hold more (loopback buffers grow to several MB), so
        // requests go on until the cut, each answered by the app within its deadline.
        var sent = 0
        while cut.withLock({ $0 }) == nil, sent < 400 {
            let request = "POST /\(sent) HTTP/1.1\r\nHost: echo\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
            try await connection.writeAndFlush(ByteBuffer(string: request))
            sent += 1
            try await waitUntil("the app's answer to request \(sent)", timeout: .seconds(5)) { answerLines(probe.text).count == sent }
        }
        watcher.cancel()
        let notice = try #require(cut.withLock { $0 }, "no cut after \(sent) requests of 100 kB")
        #expect(notice.engagementID == "tap:echo")
        #expect(notice.message.contains("cut"))
        // After the cut the app goes on answering at once.
        try await connection.writeAndFlush(ByteBuffer(string: get("/after")))
        try await waitUntil("the answer after the cut", timeout: .seconds(5)) { answerLines(probe.text).last == "app: GET /after 0" }
        try await connection.close()
        await fixture.stop()
    }

    @Test func aWorkstationThatRefusesGetsTheClientA502() async throws {
        var fixture = try await HTTPFixture.start()
        var (alice, _) = try await fixture.workstation("alice", filter: user("alice"))
        alice.targetPort = try freePort()
        try await fixture.engage([alice])
        let (_, probe) = try await Probe.connect(group: fixture.group, port: fixture.agentPort, firstBytes: get("/", user: "alice"))
        try await waitUntil("the 502") { probe.text.hasPrefix("HTTP/1.1 502 Bad Gateway") }
        try await waitUntil("the close") { probe.closed || probe.eof }
        await fixture.stop()
    }
}

@Suite("Replace: the agent listens on the replaced container's ports")
struct ReplaceTests {
    @Test func withoutItsReplaceAPortResetsWithItConnectionsGoToTheClient() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let workstation = try await echoServer(group: group)
        let port = try freePort()
        var config = testConfig(agentPort: port, containerPort: port, tunnelPort: 0)
        config.containers[0].replace = true
        let plane = try await AgentDataPlane.start(config: config, loop: group.next(), host: "127.0.0.1", claimWait: .seconds(2))

        // No replace: no app behind the port (the agent is there), so closed at once (with RST;
        // whether the client reads it as a reset or an error on its write is a race), not a hang.
        // The reset may even come before the client's connect completes.
        if let (_, nobody) = try? await Probe.connect(group: group, port: port, firstBytes: "hello?") {
            try await waitUntil("the reset", timeout: .seconds(2)) { nobody.closed }
            #expect(nobody.text.isEmpty)
        }

        let replace = InterceptAssignment(
            id: "r:echo", clientSession: "r", state: .active, containerName: "app", agentPort: 0, protocol: "",
            targetHost: "127.0.0.1", targetPort: 0, kind: .replace,
            replacedPorts: [.init(agentPort: port, protocol: "TCP", targetPort: workstation.localAddress!.port!)])
        #expect(try await plane.update(snapshot: [replace]).get() == [InterceptReview(id: "r:echo", verdict: .active)])
        let client = try await TestClient(group: group, tunnelPort: plane.tunnelPort)
        #expect(try await client.claim("r") == .accepted)
        let (_, probe) = try await Probe.connect(group: group, port: port, firstBytes: "to the workstation")
        try await waitUntil("the workstation's echo") { probe.text == "to the workstation" }

        await client.close()
        await plane.close()
        try await workstation.close()
        try await group.shutdownGracefully()
    }
}
