import NIOCore
import Tunnel

/// One TCP connection to the tunnel port: a responder multiplexer whose first stream must be a
/// claim; the agent opens the claimed session's connections on it.
final class AgentTunnel: TunnelStreamDelegate {
    unowned let plane: AgentDataPlane
    weak var multiplexer: TunnelMultiplexer?
    var session: String?

    init(plane: AgentDataPlane) {
        self.plane = plane
    }

    func inbound(_ stream: TunnelStream, _ open: TunnelOpen) {
        guard TunnelClaim.isClaim(open.flow) else {
            stream.reject(.prohibited, message: "a traffic-agent's tunnel carries only the agent's connections toward its client")
            return
        }
        guard session == nil else {
            stream.reject(.prohibited, message: "this tunnel is already claimed by session \(session!)")
            return
        }
        guard let claimed = TunnelClaim.session(in: open.initialData) else {
            stream.reject(.prohibited, message: "a claim must be 'TPCLAIM1 <session id>'")
            return
        }
        if let refusal = plane.claim(claimed, tunnel: self) {
            stream.reject(.prohibited, message: refusal)
            return
        }
        session = claimed
        stream.delegate = self
        do {
            try stream.accept()
            stream.resumeReading()
        } catch {
            plane.tunnelClosed(self)
        }
    }

    // The claim holds while its stream is open.
    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {}

    func tunnelStreamDidClose(_ stream: TunnelStream) {
        plane.tunnelClosed(self)
    }
}
