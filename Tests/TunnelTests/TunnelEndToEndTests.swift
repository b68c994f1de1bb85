import TestSupport
import NIOCore
import NIOPosix
import Testing
@testable import Tunnel
import NetworkAddress

/// The multiplexer, dialer and socket bridge over real loopback sockets. Serialized: the
/// fail-fast timing must not compete with the bulk tests for the CPU.
@Suite("Tunnel end to end over loopback", .serialized)
struct TunnelEndToEndTests {
    static func pattern(_ count: Int, seed: UInt64) -> ByteBuffer {
        var rng = SeededGenerator(seed: seed)
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count)
        var left = count
        while left >= 8 {
            buffer.writeInteger(rng.next())
            left -= 8
        }
        for _ in 0..<left { buffer.writeInteger(UInt8(truncatingIfNeeded: rng.next())) }
        return buffer
    }

    @Test("64 MiB through one stream arrive complete and in order", .timeLimit(.minutes(2)))
    func bulkWithChecksum() async throws {
        let harness = try await TunnelTestHarness.start()
        let sink = try await TestServers.checksumSink(group: harness.group)
        defer { sink.close(promise: nil) }
        let forwarder = try await harness.forwarder(to: sink.localAddress!)
        defer { forwarder.close(promise: nil) }
        let payload = Self.pattern(64 << 20, seed: 1)
        var expected = Checksum()
        expected.add(payload)
        let result = try await CollectingClient.run(group: harness.group, to: forwarder.localAddress!, payload: payload)
        var answer = result.bytes
        #expect(answer.readInteger(as: UInt64.self) == UInt64(64 << 20))
        #expect(answer.readInteger(as: UInt64.self) == expected.value)
        await harness.shutdown()
    }

    @Test("a 16 MiB echo comes back byte for byte (both directions, half-close)", .timeLimit(.minutes(2)))
    func echoBothWays() async throws {
        let harness = try await TunnelTestHarness.start()
        let echo = try await TestServers.echo(group: harness.group)
        defer { echo.close(promise: nil) }
        let forwarder = try await harness.forwarder(to: echo.localAddress!)
        defer { forwarder.close(promise: nil) }
        let payload = Self.pattern(16 << 20, seed: 2)
        var expected = Checksum()
        expected.add(payload)
        let result = try await CollectingClient.run(group: harness.group, to: forwarder.localAddress!, payload: payload, keepBytes: false)
        #expect(result.checksum.count == 16 << 20)
        #expect(result.checksum == expected)
        #expect(!result.reset)
        await harness.shutdown()
    }

    @Test("200 concurrent connections each get their own answer", .timeLimit(.minutes(2)))
    func concurrentStreams() async throws {
        let harness = try await TunnelTestHarness.start()
        let echo = try await TestServers.echo(group: harness.group)
        defer { echo.close(promise: nil) }
        let forwarder = try await harness.forwarder(to: echo.localAddress!)
        defer { forwarder.close(promise: nil) }
        let address = forwarder.localAddress!
        let group = harness.group
        let ok = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            for i in 0..<200 {
                tasks.addTask {
                    let payload = Self.pattern(4096 + i, seed: UInt64(i))
                    let result = try await CollectingClient.run(group: group, to: address, payload: payload)
                    return result.bytes == payload
                }
            }
            var count = 0
            for try await same in tasks where same { count += 1 }
            return count
        }
        #expect(ok == 200)
        // Every stream closed on both sides once its connection ended.
        try await waitUntil("every stream to close") { try await harness.multiplexer.eventLoop.submit { harness.multiplexer.value.streamCount == 0 }.get() }
        await harness.shutdown()
    }

    /// Refused, not timed out: the reason below tells the two apart without a clock.
    @Test("a dial to a closed port fails: OPEN_FAILED(refused), and the local socket is reset", .timeLimit(.minutes(1)))
    func closedPort() async throws {
        let harness = try await TunnelTestHarness.start()
        let closed = try await TestServers.closedPort(group: harness.group)
        let forwarder = try await harness.forwarder(to: closed)
        defer { forwarder.close(promise: nil) }
        let result = try await CollectingClient.run(group: harness.group, to: forwarder.localAddress!, payload: ByteBuffer(string: "GET /"))
        #expect(result.reset, "the local socket should see RST")
        #expect(result.bytes.readableBytes == 0)

        // The same through the API: the stream reports the reason.
        let recorder = try await harness.multiplexer.eventLoop.submit {
            let recorder = StreamRecorder(eventLoop: harness.multiplexer.eventLoop)
            let flow = TunnelFlow(transport: .tcp, source: TunnelEndpoint(address: .v4(.loopback), port: 1),
                                  destination: TunnelEndpoint(closed)!)
            _ = try harness.multiplexer.value.openStream(flow: flow, initialData: ByteBuffer(string: "x"), delegate: recorder)
            return NIOLoopBound(recorder, eventLoop: harness.multiplexer.eventLoop)
        }.get()
        let failure = try await recorder.eventLoop.flatSubmit { recorder.value.openFailure.futureResult }.get()
        #expect(failure == .refused)
        await harness.shutdown()
    }

    @Test("a UDP flow carries datagrams both ways with boundaries kept", .timeLimit(.minutes(1)))
    func udpFlow() async throws {
        let harness = try await TunnelTestHarness.start()
        let udp = try await TestServers.udpEcho(group: harness.group)
        defer { udp.close(promise: nil) }
        let target = udp.localAddress!
        let loop = harness.multiplexer.eventLoop
        let recorder = try await loop.submit {
            let recorder = StreamRecorder(eventLoop: loop, expectDatagrams: 3)
            let flow = TunnelFlow(transport: .udp, source: TunnelEndpoint(address: .v4(.loopback), port: 5353),
                                  destination: TunnelEndpoint(target)!)
            let stream = try harness.multiplexer.value.openStream(flow: flow, initialData: ByteBuffer(string: "one"), delegate: recorder)
            recorder.onOpen = {
                _ = try? stream.writeDatagram(ByteBuffer(string: "two"))
                _ = try? stream.writeDatagram(ByteBuffer(string: "three"))
            }
            return NIOLoopBound(recorder, eventLoop: loop)
        }.get()
        let datagrams = try await loop.flatSubmit { recorder.value.datagrams.futureResult }.get()
        #expect(datagrams == ["one", "two", "three"])
        await harness.shutdown()
    }

    @Test("keep-alive PINGs measure the round-trip time", .timeLimit(.minutes(1)))
    func keepAliveMeasuresRTT() async throws {
        var configuration = TunnelConfiguration()
        configuration.keepAliveInterval = .milliseconds(20)
        let started = NIODeadline.now()
        let harness = try await TunnelTestHarness.start(configuration: configuration)
        let mux = harness.multiplexer
        try await waitUntil("a PING's answer") { try await mux.eventLoop.submit { mux.value.roundTripTime != nil }.get() }
        let rtt = try await mux.eventLoop.submit { mux.value.roundTripTime! }.get()
        // A time the test saw pass: positive, and no longer than the test has run so far.
        #expect(rtt > .nanoseconds(0) && rtt <= NIODeadline.now() - started, "round-trip time \(rtt)")
        await harness.shutdown()
    }

    @Test("a peer that is not a tunnel is refused and its streams reset", .timeLimit(.minutes(1)))
    func garbagePeer() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let echo = try await TestServers.echo(group: group)  // echoes our HELLO back: wrong role parity is fine, but
        // an echoed HELLO then echoed OPEN with our own parity is an invalid stream id.
        let loop = group.next()
        let closed = loop.makePromise(of: TunnelProtocolError?.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let mux = TunnelMultiplexer(role: .initiator)
                    mux.onClose = { closed.succeed($0) }
                    try channel.pipeline.syncOperations.addHandler(mux)
                }
            }
            .connect(to: echo.localAddress!).get()
        try await loop.submit {
            let mux = try channel.pipeline.syncOperations.handler(type: TunnelMultiplexer.self)
            let flow = TunnelFrameCodecTests.flow4
            _ = try mux.openStream(flow: flow, delegate: nil)
        }.get()
        let error = try await closed.futureResult.get()
        #expect(error == .invalidStreamID(1))
        try? await echo.close().get()
        try? await channel.closeFuture.get()
        try await group.shutdownGracefully()
    }
}

/// Records what one stream reports.
final class StreamRecorder: TunnelStreamDelegate {
    let openFailure: EventLoopPromise<TunnelOpenFailure>
    let datagrams: EventLoopPromise<[String]>
    let expectDatagrams: Int
    var received: [String] = []
    var onOpen: (() -> Void)?

    init(eventLoop: any EventLoop, expectDatagrams: Int = 0) {
        openFailure = eventLoop.makePromise()
        datagrams = eventLoop.makePromise()
        self.expectDatagrams = expectDatagrams
    }

    func tunnelStreamDidOpen(_ stream: TunnelStream) { onOpen?() }
    func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {
        openFailure.succeed(reason)
    }
    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {
        received.append(String(buffer: bytes))
        if received.count == expectDatagrams { datagrams.succeed(received) }
    }
    func tunnelStreamDidClose(_ stream: TunnelStream) {
        openFailure.fail(ChannelError.ioOnClosedChannel)
        datagrams.fail(ChannelError.ioOnClosedChannel)
    }
}
