import NIOCore

/// Limits and windows of a multiplexed tunnel connection. The defaults are sized for a far
/// cluster: a stream may have 8 MiB in flight, i.e. ~400 MB/s at 20 ms RTT, where
/// Telepresence's ~64 KiB per RTT gives ~3 MB/s.
public struct TunnelConfiguration: Sendable {
    /// The largest frame payload this side accepts (announced in HELLO).
    public var maxFrameSize: UInt32 = 1024 * 1024
    /// The receive window this side grants each stream (announced in OPEN / OPEN_OK).
    public var streamWindow: UInt32 = 8 * 1024 * 1024
    /// The receive window this side grants the whole connection (announced in HELLO).
    public var connectionWindow: UInt32 = 64 * 1024 * 1024
    /// Peer-opened streams this side allows at once; more are refused with OPEN_FAILED(prohibited).
    public var maxConcurrentPeerStreams: Int = 8192
    /// A stream reports itself unwritable when this many bytes wait for window.
    public var streamWriteBufferHighWater: Int = 1024 * 1024
    /// How long a dialer tries when OPEN does not say (ms).
    public var defaultDialTimeoutMilliseconds: UInt32 = 10_000
    /// PING interval, and how long without any frame from the peer ends the connection.
    public var keepAliveInterval: TimeAmount? = .seconds(15)
    public var keepAliveTimeout: TimeAmount = .seconds(45)

    public init() {}

    /// Read sizes for the sockets the tunnel relays and for its byte stream: bulk transfers
    /// read up to 1 MiB at a time (bigger frames, fewer syscalls and per-frame steps); small
    /// exchanges stay small. Use it on the multiplexer's channel too.
    public static let socketReceiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 2048, initial: 65_536, maximum: 1 << 20)

    /// Clamps the values into the ranges the wire format allows.
    var normalized: TunnelConfiguration {
        var c = self
        c.maxFrameSize = min(max(c.maxFrameSize, TunnelWire.minimumMaxFrameSize), TunnelWire.maximumMaxFrameSize)
        c.streamWindow = UInt32(min(Int(max(c.streamWindow, 1)), TunnelWire.maximumWindow))
        c.connectionWindow = UInt32(min(Int(max(c.connectionWindow, 1)), TunnelWire.maximumWindow))
        return c
    }
}
