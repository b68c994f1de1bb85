import Foundation
import KubeClient
import NIOCore
import NIOPosix
import Testing

/// Port-forward's fallback to SPDY/3.1 when the WebSocket upgrade is refused (an API server or
/// proxy without WebSocket port-forward), against a server that speaks SPDY as spdystream does.
@Suite struct SPDYPortForwardTests {
    static func spdyOnly() -> TestAPIServer.Options {
        var options = TestAPIServer.Options()
        options.webSocketPortForward = false
        return options
    }

    @Test func fallsBackToSPDYAndCarriesAMegabyteBothWays() async throws {
        let echo = try await EchoServer()
        do {
            try await withTestServer(Self.spdyOnly()) { server in
                let client = KubeClient(configuration: configuration(for: server))
                #expect(client.portForwardProtocol == .webSocket)
                let stream = try await client.portForward(pod: "web-1", port: echo.port)
                let size = 1 << 20
                let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
                async let received: [UInt8] = {
                    var bytes: [UInt8] = []
                    for try await chunk in stream.inbound {
                        bytes += chunk.readableBytesView
                        if bytes.count >= size { break }
                    }
                    return bytes
                }()
                var offset = 0
                while offset < size {
                    let end = min(offset + 100_000, size)
                    try await stream.write(ByteBuffer(bytes: payload[offset..<end]))
                    offset = end
                }
                #expect(try await received == payload)
                await stream.close()

                // First a WebSocket GET (refused), then the SPDY POST with kubectl's headers.
                let requests = server.requests.filter { $0.path.hasSuffix("/portforward") }
                #expect(requests.map(\.method) == ["GET", "POST"])
                #expect(requests.last?.header("X-Stream-Protocol-Version") == "portforward.k8s.io")
                #expect(requests.last?.header("Upgrade") == "SPDY/3.1")
                // The client remembers: the next forward goes straight to SPDY (one round trip saved).
                #expect(client.portForwardProtocol == .spdy)
                let second = try await client.portForward(pod: "web-1", port: echo.port)
                try await second.write(ByteBuffer(string: "again"))
                var echoed = ""
                for try await chunk in second.inbound {
                    echoed += String(buffer: chunk)
                    if echoed.count >= 5 { break }
                }
                #expect(echoed == "again")
                await second.close()
                #expect(server.requests.filter { $0.path.hasSuffix("/portforward") }.map(\.method) == ["GET", "POST", "POST"])
            }
        } catch {
            await echo.shutdown()
            throw error
        }
        await echo.shutdown()
    }

    @Test func aFailedDialArrivesOnTheErrorStreamAsATypedError() async throws {
        let closedPort = try await withTestServer { $0.port }
        try await withTestServer(Self.spdyOnly()) { server in
            let client = KubeClient(configuration: configuration(for: server))
            let stream = try await client.portForward(pod: "web-1", port: closedPort)
            let error = try await expectKubeError {
                for try await _ in stream.inbound {}
            }
            guard case .portForwardFailed(let pod, let port, let message) = error else { throw TestFailure("unexpected \(error)") }
            #expect(pod == "web-1")
            #expect(port == closedPort)
            #expect(message.contains("connection refused"))
        }
    }

    @Test func theChannelAPIWorksOverSPDYToo() async throws {
        let echo = try await EchoServer()
        do {
            try await withTestServer(Self.spdyOnly()) { server in
                let client = KubeClient(configuration: configuration(for: server))
                let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: ByteBuffer.self)
                let channel = try await client.portForwardChannel(pod: "web-1", port: echo.port) { channel in
                    try channel.pipeline.syncOperations.addHandler(StreamTests.Collector(expected: 5, promise: promise))
                }
                try await channel.writeAndFlush(ByteBuffer(string: "hello")).get()
                #expect(String(buffer: try await promise.futureResult.get()) == "hello")
                try await channel.close()
            }
        } catch {
            await echo.shutdown()
            throw error
        }
        await echo.shutdown()
    }

    @Test func refusalsSPDYWouldMeetAgainAreNotRetried() async throws {
        var options = Self.spdyOnly()
        options.tokens = ["right"]
        try await withTestServer(options) { server in
            let client = KubeClient(configuration: configuration(for: server, credentials: StaticToken(token: "wrong")))
            let error = try await expectKubeError { _ = try await client.portForward(pod: "web-1", port: 80) }
            #expect(error.isUnauthorized)
            #expect(server.requests.filter { $0.method == "POST" }.isEmpty)
            #expect(client.portForwardProtocol == .webSocket)
        }
    }
}
