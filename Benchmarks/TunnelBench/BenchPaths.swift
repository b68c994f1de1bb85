import NIOCore
import NIOPosix
import Tunnel

/// A way from the client to the servers: the ports a client connects to for the sink and the echo.
struct BenchPath: Sendable {
    var name: String
    var sinkPort: Int
    var echoPort: Int
}

enum BenchPaths {
    /// Client -> (delay relay) -> server.
    static func direct(group: any EventLoopGroup, sink: SocketAddress, echo: SocketAddress, delay: TimeAmount?) async throws -> BenchPath {
        guard let delay else { return BenchPath(name: "direct", sinkPort: sink.port!, echoPort: echo.port!) }
        let s = try await DelayRelay.start(group: group, to: sink, delay: delay)
        let e = try await DelayRelay.start(group: group, to: echo, delay: delay)
        return BenchPath(name: "direct", sinkPort: s.localAddress!.port!, echoPort: e.localAddress!.port!)
    }

    /// Client -> local forwarder -> multiplexed connection -> (delay relay) -> multiplexer ->
    /// dialer -> server: the workstation-to-cluster path without TUN and port-forward.
    static func tunnel(group: any EventLoopGroup, sink: SocketAddress, echo: SocketAddress, delay: TimeAmount?,
                       configuration: TunnelConfiguration) async throws -> BenchPath {
        let listener = try await TunnelServer.listen(host: "127.0.0.1", port: 0, group: group, configuration: configuration).get()
        var target = listener.localAddress!
        if let delay { target = try await DelayRelay.start(group: group, to: target, delay: delay).localAddress! }
        let loop = group.next()
        let client = try await ClientBootstrap(group: loop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: TunnelConfiguration.socketReceiveAllocator)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TunnelMultiplexer(role: .initiator, configuration: configuration))
                }
            }
            .connect(to: target).get()
        let mux = try await loop.submit {
            NIOLoopBound(try client.pipeline.syncOperations.handler(type: TunnelMultiplexer.self), eventLoop: loop)
        }.get()
        try await loop.flatSubmit { mux.value.ready() }.get()
        func endpoint(_ a: SocketAddress) -> TunnelEndpoint { TunnelEndpoint(a)! }
        let s = try await TunnelForwarder.listen(destination: endpoint(sink), multiplexer: mux).get()
        let e = try await TunnelForwarder.listen(destination: endpoint(echo), multiplexer: mux).get()
        return BenchPath(name: "tunnel", sinkPort: s.localAddress!.port!, echoPort: e.localAddress!.port!)
    }
}
