import NIOCore
import NIOPosix

/// The cluster end of tunnels (the traffic-manager, later the agent): a TCP listener whose every
/// connection is a responder multiplexer that dials what its streams ask for. One connection per
/// port-forward the workstation opened; each lives on its own event loop.
public enum TunnelServer {
    /// Listens on `host:port` (0: any free port).
    public static func listen(
        host: String = "0.0.0.0", port: Int, group: any EventLoopGroup,
        configuration: TunnelConfiguration = TunnelConfiguration(), dialer: TunnelDialer = TunnelDialer()
    ) -> EventLoopFuture<any Channel> {
        ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.recvAllocator, value: TunnelConfiguration.socketReceiveAllocator)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        TunnelMultiplexer(role: .responder, configuration: configuration) { stream, open in
                            dialer.handle(stream, open)
                        })
                }
            }
            .bind(host: host, port: port)
    }
}
