import NetworkAddress

/// Tunables of a ``NetStack``. Defaults suit a local TUN link: big windows, a large MTU,
/// short timers.
public struct NetStackConfiguration: Sendable {
    /// The TUN device's MTU; our MSS is this minus 40 (IPv4) or 60 (IPv6) header bytes, and no packet the
    /// stack emits is larger.
    public var mtu: Int = 65000
    /// Bytes received and delivered but not yet ``NetStack/consumed(_:count:)`` that a
    /// connection admits; this is the advertised receive window (scaled).
    public var receiveBufferSize: Int = 8 << 20
    /// Bytes ``NetStack/send(_:_:)`` accepts per connection before it returns short.
    public var sendBufferSize: Int = 8 << 20
    /// Out-of-order bytes buffered per connection; segments beyond this are dropped.
    public var outOfOrderLimit: Int = 1 << 20
    /// Retransmission timeout before any round-trip sample (RFC 6298 says 1 s; a local link
    /// loses only to queue overflow, so we start lower).
    public var initialRetransmissionTimeout: UInt64 = 250_000_000
    /// Floor of the retransmission timeout.
    public var minimumRetransmissionTimeout: UInt64 = 200_000_000
    /// Ceiling of the retransmission timeout.
    public var maximumRetransmissionTimeout: UInt64 = 10_000_000_000
    /// Timeouts without progress before a connection is given up (reset event).
    public var maximumRetransmissions: Int = 10
    /// How long an ACK may be held back waiting for a second segment or ``NetStack/flush()``.
    public var delayedAckTimeout: UInt64 = 1_000_000
    /// A UDP flow with no datagram either way for this long expires.
    public var udpIdleTimeout: UInt64 = 60_000_000_000
    /// A connection whose SYN was not accepted or rejected within this time is reset.
    public var pendingAcceptTimeout: UInt64 = 30_000_000_000
    /// Connections beyond this are refused with RST.
    public var maximumConnections: Int = 65536
    /// Whether ICMP echo requests to any routed address are answered.
    public var answersEchoRequests = true

    public init() {}

    /// Our MSS for IPv4.
    public var maximumSegmentSize: Int { max(min(mtu, 65535) - 40, 536) }

    /// Our MSS for a connection to `address` (IPv6 headers are 20 bytes longer).
    public func maximumSegmentSize(for address: IPAddress) -> Int {
        address.isV4 ? maximumSegmentSize : max(min(mtu, 65535) - 60, 1220)
    }
}
