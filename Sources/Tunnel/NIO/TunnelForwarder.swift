import NIOCore
import NIOPosix
import NetworkAddress

/// A local TCP listener whose every accepted connection becomes a stream to one fixed
/// destination on a multiplexer (what `--to-pod`-style forwards and the benchmark use; the
/// root daemon's NetStack opens streams the same way with the real flow).
///
/// The listener runs on the multiplexer's event loop, so a connection and its stream never
/// cross threads.
public enum TunnelForwarder {
    /// Listens on `host:port` (port 0 picks one) and forwards to `destination`.
    public static func listen(host: String = "127.0.0.1", port: Int = 0, destination: TunnelEndpoint,
                              multiplexer: NIOLoopBound<TunnelMultiplexer>,
                              firstDataWait: TimeAmount = .milliseconds(2)) -> EventLoopFuture<any Channel> {
        let loop = multiplexer.eventLoop
        return ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: TunnelConfiguration.socketReceiveAllocator)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let source = channel.remoteAddress.flatMap(TunnelEndpoint.init)
                    let sourceEndpoint = source.flatMap { $0.address.family == destination.address.family ? $0 : nil }
                        ?? .unspecified(destination.address.family)
                    let flow = TunnelFlow(transport: .tcp, source: sourceEndpoint, destination: destination)
                    try channel.pipeline.syncOperations.addHandler(
                        TunnelSocketBridge(mode: .opening(multiplexer.value, flow, firstDataWait: firstDataWait)))
                }
            }
            .bind(host: host, port: port)
    }
}
