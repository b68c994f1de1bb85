import NIOCore

/// Placeholder until the NIOHTTP2 comparison is built.
enum HTTP2Path {
    static func start(group: any EventLoopGroup, sink: SocketAddress, echo: SocketAddress, delay: TimeAmount?, window: Int) async throws -> BenchPath {
        throw BlockingClient.Failure(description: "--http2 is not built yet")
    }
}
