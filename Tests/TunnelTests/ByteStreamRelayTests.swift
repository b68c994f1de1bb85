import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing
@testable import Tunnel
import NetworkAddress

/// The path the root daemon's tunnel takes: a multiplexer on a Unix socket (root daemon), a
/// relay that joins each accepted Unix connection to a TCP connection (the user daemon joining
/// it to a port-forward), and the cluster end (`TunnelServer`, the traffic-manager) dialing.
@Suite struct ByteStreamRelayTests {
    struct Path {
        let group: MultiThreadedEventLoopGroup
        let server: any Channel
        let relayListener: any Channel
        let rootSide: any Channel
        let multiplexer: NIOLoopBound<TunnelMultiplexer>
        let socketPath: String
        /// The relay's upstream connections (what would be port-forwards).
        let upstreams: Upstreams

        final class Upstreams: Sendable {
            private let channels = Mutex<[any Channel]>([])
            func add(_ channel: any Channel) { channels.withLock { $0.append(channel) } }
            var all: [any Channel] { channels.withLock { $0 } }
        }

        static func start() async throws -> Path {
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
            let server = try await TunnelServer.listen(host: "127.0.0.1", port: 0, group: group).get()
            let serverAddress = server.localAddress!
            let upstreams = Upstreams()
            let socketPath = FileManager.default.temporaryDirectory.appendingPathComponent("relay-\(UUID().uuidString.prefix(8)).sock").path
            // The user daemon's side: every root-daemon connection gets its own upstream connection.
            let relayListener = try await ServerBootstrap(group: group)
                .childChannelOption(.autoRead, value: false)
                .childChannelInitializer { unix in
                    // The server speaks first (HELLO): the upstream's relay handler is added
                    // before its first read; the Unix side reads only once joined.
                    ClientBootstrap(group: group)
                        .channelOption(.autoRead, value: false)
                        .connect(to: serverAddress).flatMap { upstream in
                            upstreams.add(upstream)
                            return ByteStreamRelay.join(unix, upstream).flatMap {
                                unix.setOption(.autoRead, value: true).and(upstream.setOption(.autoRead, value: true)).map { _ in () }
                            }
                        }
                }
                .bind(unixDomainSocketPath: socketPath).get()
            let loop = group.next()
            let rootSide = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TunnelMultiplexer(role: .initiator))
                    }
                }
                .connect(unixDomainSocketPath: socketPath).get()
            let mux = try await loop.submit {
                NIOLoopBound(try rootSide.pipeline.syncOperations.handler(type: TunnelMultiplexer.self), eventLoop: loop)
            }.get()
            return Path(group: group, server: server, relayListener: relayListener, rootSide: rootSide, multiplexer: mux, socketPath: socketPath, upstreams: upstreams)
        }

        func shutdown() async {
            try? await rootSide.close().get()
            try? await relayListener.close().get()
            try? await server.close().get()
            try? await group.shutdownGracefully()
            unlink(socketPath)
        }
    }

    @Test("16 MiB from the root daemon's side reach the cluster end through the relay, in order", .timeLimit(.minutes(2)))
    func bulkThroughTheRelay() async throws {
        let path = try await Path.start()
        let sink = try await TestServers.checksumSink(group: path.group)
        let forwarder = try await TunnelForwarder.listen(
            destination: TunnelEndpoint(sink.localAddress!)!,
            multiplexer: path.multiplexer).get()
        let payload = TunnelEndToEndTests.pattern(16 << 20, seed: 7)
        var expected = Checksum()
        expected.add(payload)
        let start = ContinuousClock.now
        let result = try await CollectingClient.run(group: path.group, to: forwarder.localAddress!, payload: payload)
        let elapsed = ContinuousClock.now - start
        var answer = result.bytes
        #expect(answer.readInteger(as: UInt64.self) == UInt64(16 << 20))
        #expect(answer.readInteger(as: UInt64.self) == expected.value)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("relay: 16 MiB in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", 16 * 1.048576 / seconds)) MB/s, debug build)")
        try? await forwarder.close().get()
        try? await sink.close().get()
        await path.shutdown()
    }

    @Test("when the port-forward drops, the root daemon's side sees its tunnel close (and can reconnect)", .timeLimit(.minutes(1)))
    func upstreamLossClosesTheRootSide() async throws {
        let path = try await Path.start()
        try await waitUntil("the relay's upstream connection") { !path.upstreams.all.isEmpty }
        for upstream in path.upstreams.all { try? await upstream.close().get() }
        // The root side's channel must end by itself.
        try await waitUntil("the root side's channel to close") { !path.rootSide.isActive }
        #expect(!path.rootSide.isActive)
        await path.shutdown()
    }
}
