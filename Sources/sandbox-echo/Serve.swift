import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import UnixSignals

/// The servers: HTTP (HTTP/1.1, h2c, gRPC), TCP echo and UDP echo, until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve HTTP/1.1, h2c and gRPC on $HTTP_PORT (8080), TCP echo on $TCP_PORT (9000), UDP echo on $UDP_PORT (9001)."
    )

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let http = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(HTTPVersionSniffer()) }
                }
                .bind(host: "0.0.0.0", port: EchoEnvironment.port("HTTP_PORT", 8080)).get()
            let tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelInitializer { channel in channel.pipeline.addHandler(StreamEcho()) }
                .bind(host: "0.0.0.0", port: EchoEnvironment.port("TCP_PORT", 9000)).get()
            let udp = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in channel.pipeline.addHandler(DatagramEcho()) }
                .bind(host: "0.0.0.0", port: EchoEnvironment.port("UDP_PORT", 9001)).get()
            say("sandbox-echo \(EchoEnvironment.podName): HTTP on \(http.localAddress?.port ?? 0), TCP echo on \(tcp.localAddress?.port ?? 0), UDP echo on \(udp.localAddress?.port ?? 0)")
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                say("sandbox-echo: signal \(signal.rawValue), stopping")
                break
            }
            for channel in [http, tcp, udp] { _ = try? await channel.close().get() }
            try await group.shutdownGracefully()
        } catch {
            FileHandle.standardError.write(Data("sandbox-echo: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
