import Logging
import NIOCore

/// Serves an HTTP/2 cleartext connection on an engaged port stream by stream: each stream goes
/// where `provider.route` says, over one HTTP/2 connection per upstream, with copies to wiretaps.
/// (Placeholder until the splitter lands: the connection is closed.)
public enum HTTP2Splitter {
    /// Takes over `downstream` (a child channel of an agent port, autoRead off, whose handlers the
    /// HTTP/1.1 reader has removed) from how it began.
    public static func serve(
        downstream: any Channel, start: HTTP2Start, agentPort: Int, provider: any HTTPUpstreamProvider, logger: Logger
    ) {
        logger.info("HTTP/2 on port \(agentPort) is not routed yet; connection closed")
        downstream.close(promise: nil)
    }
}
