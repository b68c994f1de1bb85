import Foundation
import HTTP2Cleartext
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import Synchronization
import Testing
import TestSupport
@testable import TrafficAgent

/// The agent's HTTP/2 splitter on real sockets: a client connection to an "agent port" whose
/// streams a fake provider routes by `x-user` to sandbox-echo processes named alice, bob and app.
@Suite("HTTP/2 splitter: each stream of an h2c connection goes where its request says")
struct HTTP2SplitterTests {
    @Test func streamsOfOneConnectionGoToDifferentUpstreamsAtOnce() async throws {
        let bench = try await SplitterBench.start()
        defer { bench.stop() }
        let client = try await H2Client.connect(group: bench.group, port: bench.agentPort)
        // Alice's stream stays open (its request body not ended) while bob's and nobody's go
        // and come back: the streams are independent.
        let alice = try await client.open(path: "/alice/first", user: "alice", endStream: false)
        async let bob = client.request(path: "/bob?x=1", user: "bob")
        async let nobody = client.request(path: "/", user: nil)
        let (bobAnswer, nobodyAnswer) = try await (bob, nobody)
        #expect(bobAnswer.status == "200" && bobAnswer.json["pod"] as? String == "bob" && bobAnswer.json["path"] as? String == "/bob")
        #expect(nobodyAnswer.json["pod"] as? String == "app")
        alice.finish(body: "alice's body")
        let aliceAnswer = try await alice.answer()
        #expect(aliceAnswer.json["pod"] as? String == "alice" && aliceAnswer.json["body"] as? String == "alice's body")
        #expect((aliceAnswer.json["headers"] as? [String: String])?["x-user"] == "alice")
        // One connection per upstream per downstream connection, reused by later streams.
        _ = try await client.request(path: "/again", user: "alice")
        #expect(bench.provider.connects.withLock { $0 } == ["alice": 1, "bob": 1, "app": 1])
        try await client.close()
    }

    @Test func aGRPCCallGoesThroughTheSplitter() async throws {
        let bench = try await SplitterBench.start()
        defer { bench.stop() }
        let bob = try await CommandRunner.run("sandbox-echo", ["grpc-call", "127.0.0.1:\(bench.agentPort)", "--header", "x-user=bob", "--message", "hi"])
        #expect(bob.status == 0, "\(bob.combined)")
        let answer = try JSONSerialization.jsonObject(with: Data(bob.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(answer["pod"] as? String == "bob" && answer["message"] as? String == "hi")
        #expect((answer["metadata"] as? [String: String])?["x-user"] == "bob")
        let nobody = try await CommandRunner.run("sandbox-echo", ["grpc-call", "127.0.0.1:\(bench.agentPort)"])
        #expect(nobody.status == 0 && nobody.stdout.contains("\"pod\":\"app\""), "\(nobody.combined)")
        // A server that is not there: the client says so and fails.
        let refused = try await CommandRunner.run("sandbox-echo", ["grpc-call", "127.0.0.1:\(try freePort())", "--timeout", "2"])
        #expect(refused.status != 0 && refused.stderr.contains("failed"))
    }

    @Test func anUpgradeRequestIsServedAsStreamOneAndTheConnectionStaysHTTP2() async throws {
        let bench = try await SplitterBench.start()
        defer { bench.stop() }
        // curl with nghttp2 upgrades (Upgrade: h2c, HTTP2-Settings) and reuses the connection
        // for the second URL over HTTP/2.
        let curl = try await ProcessRunner.run([
            "curl", "-s", "--http2", "-m", "10", "-H", "x-user: alice", "-w", "\n%{http_version}\n",
            "http://127.0.0.1:\(bench.agentPort)/upgraded?q=1", "http://127.0.0.1:\(bench.agentPort)/second",
        ], timeout: .seconds(20))
        #expect(curl.status == 0, "\(curl.combined)")
        let lines = curl.stdout.replacingOccurrences(of: "\\/", with: "/").split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(curl.stdout)")
        guard lines.count == 4 else { return }
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any] ?? [:]
        #expect(first["pod"] as? String == "alice" && first["path"] as? String == "/upgraded" && first["query"] as? String == "q=1")
        #expect(lines[1] == "2" && lines[3] == "2")
        #expect(lines[2].contains("\"path\":\"/second\"") && lines[2].contains("\"pod\":\"alice\""))
    }

    @Test func aCopyWhosePeerNeverReadsIsCutWhileAnswersStayOnTime() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The wiretap's workstation accepts and never reads.
        let stalled = try await ServerBootstrap(group: group)
            .childChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).get()
        let bench = try await SplitterBench.start(group: group, wiretapPort: stalled.localAddress!.port!)
        defer { bench.stop(); _ = stalled.close() }
        let client = try await H2Client.connect(group: bench.group, port: bench.agentPort)
        let body = String(repeating: "x", count: 256 * 1024)
        for index in 0..<12 {
            let started = ContinuousClock.now
            let answer = try await client.request(path: "/upload/\(index)", user: nil, body: body)
            let took = ContinuousClock.now - started
            #expect(answer.json["pod"] as? String == "app" && (answer.json["body"] as? String)?.count == body.count)
            #expect(took < .seconds(2), "request \(index) took \(took)")
        }
        try await waitUntil("the copy to be cut") { !bench.provider.cuts.withLock { $0 }.isEmpty }
        let cuts = bench.provider.cuts.withLock { $0 }
        #expect(cuts.count == 1 && cuts[0].contains("read too slowly"), "\(cuts)")
        try await client.close()
    }

    @Test func theEchoAppSpeaksH2CAndHTTP1ItselfAndNamesItsPod() async throws {
        let echo = try await EchoProcess.start(name: "workstation")
        defer { echo.process.kill() }
        let base = "http://127.0.0.1:\(echo.port)/path?a=b"
        for flags in [["--http1.1"], ["--http2"], ["--http2-prior-knowledge"]] {
            let curl = try await ProcessRunner.run(["curl", "-s", "-m", "10", "-w", "\n%{http_version}"] + flags + [base], timeout: .seconds(20))
            // JSONSerialization writes "/" as "\/".
            let text = curl.stdout.replacingOccurrences(of: "\\/", with: "/")
            #expect(curl.status == 0 && text.contains("\"pod\":\"workstation\"") && text.contains("\"path\":\"/path\""), "\(flags): \(curl.combined)")
            #expect(curl.stdout.hasSuffix(flags == ["--http1.1"] ? "1.1" : "2"), "\(flags): \(curl.stdout)")
        }
        let grpc = try await CommandRunner.run("sandbox-echo", ["grpc-call", "127.0.0.1:\(echo.port)", "--header", "x-user: carol"])
        #expect(grpc.status == 0 && grpc.stdout.contains("\"pod\":\"workstation\"") && grpc.stdout.contains("\"x-user\":\"carol\""), "\(grpc.combined)")
    }
}

// MARK: The bench

/// sandbox-echo as a local process, on ports the system chose.
struct EchoProcess {
    let process: ProcessRunner.Background
    let port: Int

    static func start(name: String) async throws -> EchoProcess {
        let process = try ProcessRunner.start(
            [CommandRunner.executable("sandbox-echo").path],
            environment: ["POD_NAME": name, "HTTP_PORT": "0", "TCP_PORT": "0", "UDP_PORT": "0"], captureOutput: true)
        var port = 0
        try await waitUntil("sandbox-echo \(name) to listen") {
            guard let range = process.output.range(of: "HTTP on ") else { return false }
            port = Int(process.output[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port > 0
        }
        return EchoProcess(process: process, port: port)
    }
}

/// An agent port (a listener handing each connection to the splitter as the HTTP/1.1 reader
/// does), three echo apps, and the provider routing between them.
struct SplitterBench {
    let group: MultiThreadedEventLoopGroup
    let listener: any Channel
    let echoes: [EchoProcess]
    let provider: RoutingByUser
    var agentPort: Int { listener.localAddress!.port! }

    static func start(group: MultiThreadedEventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1), wiretapPort: Int? = nil) async throws -> SplitterBench {
        var echoes: [EchoProcess] = []
        for name in ["alice", "bob", "app"] { echoes.append(try await EchoProcess.start(name: name)) }
        let loop = group.next()
        let provider = RoutingByUser(loop: loop, alice: echoes[0].port, bob: echoes[1].port, app: echoes[2].port, wiretap: wiretapPort)
        let listener = try await ServerBootstrap(group: loop)
            .childChannelOption(.autoRead, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(HandOver(provider: provider)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return SplitterBench(group: group, listener: listener, echoes: echoes, provider: provider)
    }

    func stop() {
        for echo in echoes { echo.process.kill() }
        listener.close(promise: nil)
    }
}

/// Routes by `x-user` (alice, bob, else the app); every request is copied to the wiretap if any.
final class RoutingByUser: HTTPUpstreamProvider, @unchecked Sendable {
    let loop: any EventLoop
    let ports: [HTTPUpstream: Int]
    let wiretap: HTTPUpstream?
    let connects = Mutex<[String: Int]>([:])
    let cuts = Mutex<[String]>([])
    static let app = HTTPUpstream.app(containerPort: 8080)
    static func user(_ name: String) -> HTTPUpstream { .client(session: name, engagementID: "e-\(name)", targetHost: "127.0.0.1", targetPort: 8080) }

    init(loop: any EventLoop, alice: Int, bob: Int, app: Int, wiretap: Int?) {
        self.loop = loop
        var ports = [Self.user("alice"): alice, Self.user("bob"): bob, Self.app: app]
        self.wiretap = wiretap.map { _ in Self.user("wiretap") }
        if let wiretap { ports[Self.user("wiretap")] = wiretap }
        self.ports = ports
    }

    func route(agentPort: Int, request: HTTPRequestSummary) -> HTTPRequestRoute {
        let user = request.headers.first { $0.name == "x-user" }?.value
        let answer = user == "alice" || user == "bob" ? Self.user(user!) : Self.app
        return HTTPRequestRoute(answer: answer, copies: wiretap.map { [$0] } ?? [])
    }

    func connect(_ upstream: HTTPUpstream) -> EventLoopFuture<any Channel> {
        let name: String
        switch upstream {
        case .app: name = "app"
        case .client(let session, _, _, _): name = session
        }
        connects.withLock { $0[name, default: 0] += 1 }
        return ClientBootstrap(group: loop)
            .channelOption(.autoRead, value: false)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: "127.0.0.1", port: ports[upstream]!)
    }

    func copyCut(_ upstream: HTTPUpstream, reason: String) {
        cuts.withLock { $0.append(reason) }
    }
}

/// What the agent's HTTP/1.1 reader does before the splitter: the preface means prior
/// knowledge; a request head with `Upgrade: h2c` (no body in these tests) means an upgrade.
final class HandOver: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let provider: RoutingByUser
    private var received = ByteBuffer()

    init(provider: RoutingByUser) { self.provider = provider }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        let start: HTTP2Start
        switch HTTP2Preface.classify(received) {
        case .undecided: return
        case .http2: start = .priorKnowledge(buffered: received)
        case .notHTTP2:
            guard let text = received.getString(at: received.readerIndex, length: received.readableBytes),
                  let end = text.range(of: "\r\n\r\n") else { return }
            let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
            let requestLine = lines[0].split(separator: " ")
            let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            var rest = received
            rest.moveReaderIndex(forwardBy: text[..<end.upperBound].utf8.count)
            start = .upgrade(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: ByteBuffer(), rest: rest)
        }
        let channel = context.channel
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        HTTP2Splitter.serve(downstream: channel, start: start, agentPort: 8080, provider: provider, logger: Logger(label: "splitter-test"))
    }
}

// MARK: An HTTP/2 client (prior knowledge) for the tests

struct H2Answer: Sendable {
    var status: String
    var body: String
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
}

final class H2Client: Sendable {
    let channel: any Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer

    init(channel: any Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer) {
        self.channel = channel
        self.multiplexer = multiplexer
    }

    static func connect(group: any EventLoopGroup, port: Int) async throws -> H2Client {
        let channel = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        let multiplexer = try await channel.eventLoop.submit { try H2CConnection.client(channel: channel) }.get()
        return H2Client(channel: channel, multiplexer: multiplexer)
    }

    /// A stream whose request head is sent (and its end, with `endStream`).
    func open(path: String, user: String?, endStream: Bool = true, method: String = "POST") async throws -> H2Stream {
        let collector = AnswerCollector(promise: channel.eventLoop.makePromise())
        let stream = try await multiplexer.createStreamChannel { stream in
            stream.eventLoop.makeCompletedFuture { try stream.pipeline.syncOperations.addHandler(collector) }
        }.get()
        var headers = HPACKHeaders([(":method", method), (":scheme", "http"), (":path", path), (":authority", "echo.test")])
        if let user { headers.add(name: "x-user", value: user) }
        try await stream.writeAndFlush(HTTP2Frame.FramePayload.headers(.init(headers: headers, endStream: endStream)))
        return H2Stream(channel: stream, answerFuture: collector.promise.futureResult)
    }

    func request(path: String, user: String?, body: String = "") async throws -> H2Answer {
        let stream = try await open(path: path, user: user, endStream: body.isEmpty)
        if !body.isEmpty { stream.finish(body: body) }
        return try await stream.answer()
    }

    func close() async throws { try await channel.close() }
}

struct H2Stream {
    let channel: any Channel
    let answerFuture: EventLoopFuture<H2Answer>

    func finish(body: String) {
        channel.writeAndFlush(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(ByteBuffer(string: body)), endStream: true)), promise: nil)
    }

    func answer() async throws -> H2Answer {
        let future = answerFuture
        return try await waitForEvent("the stream's answer", timeout: .seconds(10)) { try await future.get() }
    }
}

final class AnswerCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame.FramePayload
    let promise: EventLoopPromise<H2Answer>
    private var status = ""
    private var body = ByteBuffer()

    init(promise: EventLoopPromise<H2Answer>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if let status = headers.headers.first(name: ":status") { self.status = status }
            if headers.endStream { done() }
        case .data(let data):
            if case .byteBuffer(var bytes) = data.data { body.writeBuffer(&bytes) }
            if data.endStream { done() }
        default:
            break
        }
    }

    private var completed = false

    private func done() { complete(.success(H2Answer(status: status, body: String(buffer: body)))) }
    func channelInactive(context: ChannelHandlerContext) { complete(.failure(ChannelError.eof)) }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { complete(.failure(error)) }

    private func complete(_ result: Result<H2Answer, any Error>) {
        guard !completed else { return }
        completed = true
        promise.completeWith(result)
    }
}
