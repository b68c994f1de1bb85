import NIOCore

/// A claim names the session a tunnel belongs to. A client that holds intercepts connects a
/// tunnel to an agent (through a port-forward to the agent's pod, or through the manager) and
/// opens, as its first stream, a TCP stream to 0.0.0.0:0 — a destination no real flow has —
/// whose initial data is `TPCLAIM1 <session id>`. The agent answers OPEN_OK when the session
/// holds an intercept there and from then on opens that session's intercepted connections on
/// this tunnel (even ids, toward the client); otherwise OPEN_FAILED `prohibited` with the
/// reason. The claim holds while the stream is open; either side ends it with RST or by closing
/// the tunnel. No frame type is added: the wire format stays version 1.
public enum TunnelClaim {
    static let prefix = Array("TPCLAIM1 ".utf8)
    /// Session ids are short (a UUID with a prefix); anything longer is no claim.
    static let maxSessionLength = 256

    /// The flow of a claim stream.
    public static var flow: TunnelFlow {
        TunnelFlow(transport: .tcp, source: .unspecified(.v4), destination: .unspecified(.v4))
    }

    /// Whether a stream the peer opened is a claim (and not a connection to dial).
    public static func isClaim(_ flow: TunnelFlow) -> Bool {
        flow.transport == .tcp && flow.destination == .unspecified(.v4)
    }

    /// The initial data of a claim for `session`.
    public static func payload(session: String) -> ByteBuffer {
        var buffer = ByteBuffer(bytes: prefix)
        buffer.writeString(session)
        return buffer
    }

    /// The session a claim's initial data names, or nil when it is not a well-formed claim.
    public static func session(in data: ByteBuffer) -> String? {
        guard data.readableBytes > prefix.count, data.readableBytes <= prefix.count + maxSessionLength,
              data.getBytes(at: data.readerIndex, length: prefix.count) == prefix,
              let session = data.getString(at: data.readerIndex + prefix.count, length: data.readableBytes - prefix.count),
              session.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return session
    }
}
