import NetworkAddress

/// One passively opened TCP connection: a state machine with no I/O. It is driven by the
/// ``NetStack`` that owns it (segments in, owner calls, timers) and emits segments and events
/// through that stack.
///
/// TIME-WAIT is skipped: the connection is forgotten once both FINs are acknowledged. On a TUN
/// the peer is the local kernel, which picks fresh ephemeral ports and keeps its own TIME-WAIT
/// when it closes first, so an old duplicate reaching a reused four-tuple is practically
/// impossible; if our last ACK were lost, the kernel's retransmitted FIN gets an RST, which
/// only ends a socket the application has already closed.
final class TCPConnection {
    let id: FlowID
    /// We speak as the routed address the workstation dialled.
    let localAddress: IPAddress
    let localPort: UInt16
    let remoteAddress: IPAddress
    let remotePort: UInt16
    var state: TCPState = .awaitingAccept

    // Receiving (RFC 9293 names).
    let irs: SequenceNumber
    var rcvNxt: SequenceNumber
    /// The right edge of the window we advertised; it never moves left.
    var rcvAdvertisedEdge: SequenceNumber
    let receiveBufferSize: Int
    /// Shift for the window we advertise (0 when scaling is not negotiated).
    let receiveScale: UInt8
    let scalingNegotiated: Bool
    /// Delivered to the owner and not yet consumed: what closes our window.
    var unconsumed = 0
    var unackedSegments = 0
    var ackDeadline: UInt64?
    var outOfOrder = OutOfOrderQueue()

    // Sending.
    let iss: SequenceNumber
    var sndUna: SequenceNumber
    var sndNxt: SequenceNumber
    /// The highest sequence number sent so far (SND.NXT rewinds on a timeout; this does not).
    var sndMax: SequenceNumber
    var sndWnd: Int
    var sndWl1: SequenceNumber
    var sndWl2: SequenceNumber
    let sendScale: UInt8
    let peerMSS: Int
    let mss: Int
    let sendBuffer: SendBuffer
    /// The owner called close: a FIN follows the buffered data.
    var finQueued = false
    var timer: RetransmissionTimer
    var retransmissions = 0
    var rtoDeadline: UInt64?
    var persistDeadline: UInt64?
    var acceptDeadline: UInt64?
    /// The segment being timed for an RTT sample: its end and when it was sent.
    var rttProbeEnd: SequenceNumber?
    var rttProbeSentAt: UInt64 = 0
    var duplicateAcks = 0
    var recoveryPoint: SequenceNumber?
    var congestionWindow: Int
    var slowStartThreshold = Int.max
    var wantsWritable = false

    init(id: FlowID, syn: TCPSegment, local: IPAddress, remote: IPAddress,
         configuration: NetStackConfiguration, iss: UInt32, now: UInt64) {
        self.id = id
        localAddress = local
        localPort = syn.destinationPort
        remoteAddress = remote
        remotePort = syn.sourcePort
        irs = SequenceNumber(syn.sequenceNumber)
        rcvNxt = irs + 1
        rcvAdvertisedEdge = rcvNxt
        receiveBufferSize = configuration.receiveBufferSize
        if let peerScale = syn.options.windowScale {
            scalingNegotiated = true
            var shift: UInt8 = 0
            while shift < 14 && (configuration.receiveBufferSize >> Int(shift)) > 65535 { shift += 1 }
            receiveScale = shift
            sendScale = min(peerScale, 14)
        } else {
            scalingNegotiated = false
            receiveScale = 0
            sendScale = 0
        }
        self.iss = SequenceNumber(iss)
        sndUna = self.iss
        sndNxt = self.iss
        sndMax = self.iss
        sndWnd = Int(syn.window)  // a SYN's window is never scaled
        sndWl1 = irs
        sndWl2 = self.iss
        peerMSS = Int(syn.options.maximumSegmentSize ?? (local.isV4 ? 536 : 1220))
        mss = max(min(peerMSS, configuration.maximumSegmentSize(for: local)), 64)
        sendBuffer = SendBuffer(capacity: configuration.sendBufferSize)
        timer = RetransmissionTimer(
            initial: configuration.initialRetransmissionTimeout,
            minimum: configuration.minimumRetransmissionTimeout,
            maximum: configuration.maximumRetransmissionTimeout)
        congestionWindow = 10 * mss
        acceptDeadline = now + configuration.pendingAcceptTimeout
    }

    /// The earliest time this connection needs ``handleTimers``.
    var nextDeadline: UInt64? {
        var d = UInt64.max
        if let c = ackDeadline { d = min(d, c) }
        if let c = rtoDeadline { d = min(d, c) }
        if let c = persistDeadline { d = min(d, c) }
        if let c = acceptDeadline { d = min(d, c) }
        return d == .max ? nil : d
    }

    var info: TCPConnectionInfo {
        TCPConnectionInfo(
            state: state, sendMSS: mss, peerMSS: peerMSS,
            receiveWindowScale: scalingNegotiated ? receiveScale : nil,
            sendWindowScale: scalingNegotiated ? sendScale : nil,
            sendWindow: sndWnd, receiveWindow: max(0, rcvAdvertisedEdge - rcvNxt),
            unconsumed: unconsumed, unacknowledged: sendBuffer.count,
            smoothedRTT: timer.smoothedRTT, retransmissionTimeout: timer.current,
            retransmissions: retransmissions)
    }

    // MARK: Owner calls

    /// Sends the SYN-ACK.
    func accept(_ stack: NetStack) {
        guard state == .awaitingAccept else { return }
        state = .synReceived
        acceptDeadline = nil
        sendSynAck(stack)
        sndNxt = iss + 1
        sndMax = sndNxt
        rttProbeEnd = sndNxt
        rttProbeSentAt = stack.now
        rtoDeadline = stack.now + timer.current
    }

    func ourMSS(_ configuration: NetStackConfiguration) -> Int {
        configuration.maximumSegmentSize(for: localAddress)
    }

    func sendSynAck(_ stack: NetStack) {
        let window = UInt16(min(receiveBufferSize, 65535))
        rcvAdvertisedEdge = max(rcvAdvertisedEdge, rcvNxt + Int(window))
        let packet = stack.encoder.tcp(
            source: localAddress, sourcePort: localPort, destination: remoteAddress, destinationPort: remotePort,
            sequence: iss.rawValue, acknowledgment: rcvNxt.rawValue, flags: [.syn, .ack], window: window,
            mss: UInt16(ourMSS(stack.configuration)),
            windowScale: scalingNegotiated ? receiveScale : nil)
        stack.emit(packet)
    }

    func send(_ bytes: UnsafeRawBufferPointer, _ stack: NetStack) -> Int {
        let n = sendBuffer.append(bytes)
        if n < bytes.count { wantsWritable = true }
        if state == .established || state == .closeWait { transmit(stack) }
        return n
    }

    var canSend: Bool {
        guard !finQueued else { return false }
        switch state {
        case .awaitingAccept, .synReceived, .established, .closeWait: return true
        default: return false
        }
    }

    func consumed(_ count: Int, _ stack: NetStack) {
        unconsumed -= min(count, unconsumed)
        guard state.receivesData else { return }
        // Announce the opened window once it is worth a segment (RFC 9293 §3.8.6.2.2 receiver
        // side SWS avoidance), so a stalled sender resumes without waiting for its probe.
        let open = receiveBufferSize - unconsumed
        let newEdge = rcvNxt + ((open >> Int(receiveScale)) << Int(receiveScale))
        if newEdge - rcvAdvertisedEdge >= min(receiveBufferSize / 2, 2 * mss) {
            sendAck(stack)
        }
    }

    func close(_ stack: NetStack) {
        guard !finQueued else { return }
        switch state {
        case .awaitingAccept: abort(stack)
        case .synReceived: finQueued = true
        case .established, .closeWait:
            finQueued = true
            transmit(stack)
        default: break
        }
    }

    /// Sends RST and forgets the connection; no event follows.
    func abort(_ stack: NetStack) {
        if state == .awaitingAccept {
            sendControl(stack, sequence: SequenceNumber(0), flags: [.rst, .ack])
        } else if state != .closed {
            sendControl(stack, sequence: sndNxt, flags: [.rst, .ack])
        }
        stack.statistics.resetsSent += 1
        terminate(stack, event: nil)
    }

    /// Leaves the table, optionally telling the owner why.
    func terminate(_ stack: NetStack, event: NetStackEvent?) {
        guard state != .closed else { return }
        state = .closed
        ackDeadline = nil
        rtoDeadline = nil
        persistDeadline = nil
        acceptDeadline = nil
        stack.remove(self)
        if let event { stack.deliver(event) }
    }

    // MARK: Emitting

    /// The window field to advertise now; moves the advertised edge (never left).
    func advertisedWindowField() -> UInt16 {
        let open = max(0, receiveBufferSize - unconsumed)
        var window = (open >> Int(receiveScale)) << Int(receiveScale)
        let current = rcvAdvertisedEdge - rcvNxt
        if window < current { window = current }
        let field = min(window >> Int(receiveScale), 65535)
        let edge = rcvNxt + (field << Int(receiveScale))
        if rcvAdvertisedEdge < edge { rcvAdvertisedEdge = edge }
        return UInt16(field)
    }

    /// Emits a segment carrying `length` bytes from the send buffer at `offset`; every segment
    /// carries our current ACK and window, so pending ACKs are settled.
    func sendSegment(_ stack: NetStack, sequence: SequenceNumber, flags: TCPFlags, offset: Int = 0, length: Int = 0) {
        let window = advertisedWindowField()
        let buffer = sendBuffer
        let packet = stack.encoder.tcp(
            source: localAddress, sourcePort: localPort, destination: remoteAddress, destinationPort: remotePort,
            sequence: sequence.rawValue, acknowledgment: rcvNxt.rawValue, flags: flags, window: window,
            payloadLength: length
        ) { destination in
            buffer.copy(offset: offset, length: length, into: destination)
        }
        unackedSegments = 0
        ackDeadline = nil
        stack.emit(packet)
    }

    func sendControl(_ stack: NetStack, sequence: SequenceNumber, flags: TCPFlags) {
        sendSegment(stack, sequence: sequence, flags: flags)
    }

    func sendAck(_ stack: NetStack) {
        sendSegment(stack, sequence: sndNxt, flags: .ack)
    }
}
