import Foundation
import KubeClient
import NIOCore
import NIOPosix
import Testing

@Suite struct StreamTests {
    @Test func portForwardEchoesALargePayload() async throws {
        let echo = try await EchoServer()
        do {
            try await withTestServer { server in
                let client = KubeClient(configuration: configuration(for: server))
                let stream = try await client.portForward(pod: "web-1", port: echo.port)
                let size = 8 << 20
                var payload = [UInt8](repeating: 0, count: size)
                for index in payload.indices { payload[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 13) }
                let expected = payload
                let received = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                    group.addTask {
                        var offset = 0
                        while offset < size {
                            let end = min(offset + 65536, size)
                            try await stream.write(ByteBuffer(bytes: expected[offset..<end]))
                            offset = end
                        }
                        return []
                    }
                    group.addTask {
                        var bytes: [UInt8] = []
                        bytes.reserveCapacity(size)
                        for try await chunk in stream.inbound {
                            bytes += chunk.readableBytesView
                            if bytes.count >= size { break }
                        }
                        return bytes
                    }
                    var result: [UInt8] = []
                    for try await part in group where !part.isEmpty { result = part }
                    return result
                }
                #expect(received.count == size)
                #expect(received == expected)
                await stream.close()
                let request = try #require(server.requests.first)
                #expect(request.path == "/api/v1/namespaces/default/pods/web-1/portforward")
                #expect(request.queryValue("ports") == String(echo.port))
                #expect(request.header("Sec-WebSocket-Protocol") == "v4.channel.k8s.io")
            }
        } catch {
            await echo.shutdown()
            throw error
        }
        await echo.shutdown()
    }

    @Test func portForwardErrorChannelIsSurfacedAsATypedError() async throws {
        // A port nobody listens on: the server's dial fails and it reports on the error channel.
        let closedPort = try await withTestServer { $0.port }
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let stream = try await client.portForward(pod: "web-1", port: closedPort)
            let error = try await expectKubeError {
                for try await _ in stream.inbound {}
            }
            guard case .portForwardFailed(let pod, let port, let message) = error else { throw TestFailure("unexpected \(error)") }
            #expect(pod == "web-1")
            #expect(port == closedPort)
            #expect(message.contains("error forwarding port \(closedPort) to pod web-1"))
            #expect(error.description.contains("connection refused"))
        }
    }

    @Test func portForwardChannelGivesPlainBytesOnTheEventLoop() async throws {
        let echo = try await EchoServer()
        do {
            try await withTestServer { server in
                let client = KubeClient(configuration: configuration(for: server))
                let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: ByteBuffer.self)
                let channel = try await client.portForwardChannel(pod: "web-1", port: echo.port) { channel in
                    try channel.pipeline.syncOperations.addHandler(Collector(expected: 5, promise: promise))
                }
                try await channel.writeAndFlush(ByteBuffer(string: "hello")).get()
                let echoed = try await promise.futureResult.get()
                #expect(String(buffer: echoed) == "hello")
                try await channel.close()
            }
        } catch {
            await echo.shutdown()
            throw error
        }
        await echo.shutdown()
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let expected: Int
        let promise: EventLoopPromise<ByteBuffer>
        init(expected: Int, promise: EventLoopPromise<ByteBuffer>) {
            self.expected = expected
            self.promise = promise
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            if buffer.readableBytes >= expected { promise.succeed(buffer) }
        }
    }

    @Test func execCollectsStdoutAndSucceeds() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let result = try await client.exec(pod: "web-1", container: "app", command: ["echo", "hello", "world"])
            #expect(result.stdoutText == "hello world\n")
            #expect(result.exitCode == 0)
            let request = try #require(server.requests.first)
            #expect(request.uri == "/api/v1/namespaces/default/pods/web-1/exec?command=echo&command=hello&command=world&container=app&stdin=false&stdout=true&stderr=true&tty=false")
            #expect(server.state.withLock { $0.execProtocolsChosen } == ["v5.channel.k8s.io"])
        }
    }

    @Test func execSeparatesStderrAndReportsTheExitCode() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let both = try await client.exec(pod: "web-1", command: ["both"])
            #expect(both.stdoutText == "to stdout\n")
            #expect(both.stderrText == "to stderr\n")
            let failed = try await client.exec(pod: "web-1", command: ["fail", "3", "boom"])
            #expect(failed.exitCode == 3)
            #expect(failed.stderrText == "boom\n")
        }
    }

    @Test func execSendsStdinAndClosesIt() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let input = Array(repeating: Array("some input\n".utf8), count: 10_000).flatMap { $0 }
            let result = try await client.exec(pod: "web-1", command: ["cat"], stdin: input)
            #expect(result.stdout == input)
            #expect(result.exitCode == 0)
        }
    }

    @Test func execFallsBackToV4() async throws {
        var options = TestAPIServer.Options()
        options.execProtocols = ["v4.channel.k8s.io"]
        try await withTestServer(options) { server in
            let client = KubeClient(configuration: configuration(for: server))
            let result = try await client.exec(pod: "web-1", command: ["fail", "7", "old server"])
            #expect(result.exitCode == 7)
            #expect(server.state.withLock { $0.execProtocolsChosen } == ["v4.channel.k8s.io"])
        }
    }

    @Test func refusedUpgradeReportsTheServersStatus() async throws {
        var options = TestAPIServer.Options()
        options.tokens = ["right"]
        try await withTestServer(options) { server in
            let client = KubeClient(configuration: configuration(for: server, credentials: StaticToken(token: "wrong")))
            let error = try await expectKubeError { _ = try await client.exec(pod: "web-1", command: ["echo"]) }
            #expect(error.isUnauthorized)
        }
    }
}
