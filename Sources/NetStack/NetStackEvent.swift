/// What the stack tells its owner. Events are delivered synchronously from inside
/// ``NetStack/input(_:now:)``, ``NetStack/handleTimers(now:)`` and the owner's own calls, at
/// points where the stack is consistent: the owner may call back into the stack (accept, send,
/// consumed, close, abort) from its event handler.
public enum NetStackEvent {
    /// A SYN arrived for a new connection. Answer with ``NetStack/accept(_:)`` (now or later,
    /// e.g. once the remote dial succeeded) or ``NetStack/reject(_:)``.
    case connectionRequested(FlowID)
    /// The three-way handshake completed.
    case established(FlowID)
    /// In-order bytes from the peer. The buffer is only valid during the call: copy it. The
    /// bytes count against the receive window until the owner reports them ``NetStack/consumed(_:count:)``.
    case received(FlowID, UnsafeRawBufferPointer)
    /// The send buffer had filled (a `send` returned short) and has room again.
    case writable(FlowID)
    /// The peer sent FIN: it will send no more; we may still send (half-close).
    case peerClosed(FlowID)
    /// The connection was reset (peer RST, or retransmissions gave up) and is gone.
    case reset(FlowID)
    /// The connection finished (both FINs acknowledged, or after abort/reject) and is gone.
    case closed(FlowID)
    /// A UDP datagram from the workstation. The buffer is only valid during the call.
    case datagram(FlowID, UnsafeRawBufferPointer)
    /// A UDP flow saw no traffic for the idle timeout and was forgotten.
    case flowExpired(FlowID)
}
