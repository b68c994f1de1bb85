import NetworkAddress

/// A userspace TCP/UDP endpoint for every address routed to a TUN device: it terminates the
/// workstation's connections so their bytes can travel through the tunnel.
///
/// No I/O happens inside. The owner feeds IP packets read from the device to ``input(_:now:)``,
/// writes every packet handed to ``onPacket`` to the device, reacts to ``onEvent``, and calls
/// ``handleTimers(now:)`` when ``nextDeadline`` passes. Time is a monotonic clock in nanoseconds
/// supplied by the owner. Use one stack from one thread (an event loop); it is not Sendable.
///
/// Accepting: on `.connectionRequested` the owner may call ``accept(_:)`` at once or later.
/// The tunnel accepts at once, so the workstation's first bytes arrive while the remote dial is
/// under way and ride with the dial request (one round trip per new connection); a failed dial
/// then becomes ``abort(_:)`` (the program sees ECONNRESET instead of ECONNREFUSED). Holding the
/// SYN until the dial succeeds gives the exact refusal but costs a second round trip before
/// any data moves.
///
/// Hot path: packets are built in one reused buffer and handed out as a borrowed
/// `UnsafeRawBufferPointer`; received data is handed out pointing into the input packet. Copy
/// either if it must outlive the callback.
public final class NetStack {
    public let configuration: NetStackConfiguration
    public internal(set) var statistics = NetStackStatistics()
    /// The owner's clock at the last call that passed one.
    public private(set) var now: UInt64
    /// Receives each packet to write to the TUN; the buffer is only valid during the call.
    public var onPacket: (UnsafeRawBufferPointer) -> Void = { _ in }
    /// Receives each event; see ``NetStackEvent``.
    public var onEvent: (NetStackEvent) -> Void = { _ in }

    let encoder: PacketEncoder
    private var connections: [FlowID: TCPConnection] = [:]
    private var udpFlows = UDPFlowTable()
    /// Connections holding back an ACK until ``flush()`` or their delayed-ACK deadline.
    var ackPending: [TCPConnection] = []
    private var dueScratch: [TCPConnection] = []
    private var random = SystemRandomNumberGenerator()

    public init(configuration: NetStackConfiguration = NetStackConfiguration(), now: UInt64 = 0) {
        self.configuration = configuration
        self.now = now
        encoder = PacketEncoder(maximumPacketSize: min(configuration.mtu, 65535))
    }

    // MARK: Input

    /// Processes one IP packet read from the TUN.
    public func input(_ packet: UnsafeRawBufferPointer, now: UInt64) {
        self.now = now
        statistics.packetsReceived += 1
        guard let first = packet.first else {
            statistics.truncated += 1
            return
        }
        do throws(PacketError) {
            switch first >> 4 {
            case 4:
                let ip = try IPv4Packet(parsing: packet)
                if ip.protocolNumber == 1 {
                    try icmpInput(ip)
                } else {
                    try transportInput(
                        source: .v4(ip.source), destination: .v4(ip.destination), protocol: ip.protocolNumber,
                        payload: ip.payload)
                }
            case 6:
                let ip = try IPv6Packet(parsing: packet)
                try transportInput(
                    source: .v6(ip.source), destination: .v6(ip.destination), protocol: ip.nextHeader,
                    payload: ip.payload)
            default:
                throw .malformed
            }
        } catch {
            statistics.count(error)
        }
    }

    /// Processes one IP packet held in an array.
    public func input(_ packet: [UInt8], now: UInt64) {
        packet.withUnsafeBytes { input($0, now: now) }
    }

    private func transportInput(
        source: IPAddress, destination: IPAddress, protocol proto: UInt8, payload: UnsafeRawBufferPointer
    ) throws(PacketError) {
        switch proto {
        case 6:
            let pseudo = InternetChecksum.pseudoHeader(
                source: source, destination: destination, protocol: 6, length: payload.count)
            let segment = try TCPSegment(parsing: payload, pseudoHeaderSum: pseudo)
            tcpInput(segment, source: source, destination: destination)
        case 17:
            let pseudo = InternetChecksum.pseudoHeader(
                source: source, destination: destination, protocol: 17, length: payload.count)
            // IPv6 makes the UDP checksum mandatory.
            if !source.isV4 && payload.count >= 8 && payload.loadUnaligned(fromByteOffset: 6, as: UInt16.self) == 0 {
                throw .badChecksum
            }
            let datagram = try UDPDatagram(parsing: payload, pseudoHeaderSum: pseudo)
            let id = FlowID(.udp, source: source, sourcePort: datagram.sourcePort,
                            destination: destination, destinationPort: datagram.destinationPort)
            _ = udpFlows.touch(id, now: now, idleTimeout: configuration.udpIdleTimeout)
            deliver(.datagram(id, datagram.payload))
        default:
            throw .unsupported
        }
    }

    private func icmpInput(_ ip: IPv4Packet) throws(PacketError) {
        guard ip.payload.count >= 8 else { throw .truncated }
        guard InternetChecksum.verifies(ip.payload) else { throw .badChecksum }
        guard ip.payload[ip.payload.startIndex] == 8, configuration.answersEchoRequests else { throw .unsupported }
        emit(encoder.icmpEchoReply(source: ip.destination, destination: ip.source, request: ip.payload))
        statistics.echoRepliesSent += 1
    }

    private func tcpInput(_ segment: TCPSegment, source: IPAddress, destination: IPAddress) {
        let id = FlowID(.tcp, source: source, sourcePort: segment.sourcePort,
                        destination: destination, destinationPort: segment.destinationPort)
        if let connection = connections[id] {
            connection.handle(segment, self)
            return
        }
        let flags = segment.flags
        if flags.contains(.rst) { return }
        if flags.contains(.syn) && !flags.contains(.ack) {
            guard connections.count < configuration.maximumConnections else {
                statistics.connectionsRefused += 1
                resetUnknown(segment, source: source, destination: destination)
                return
            }
            let connection = TCPConnection(
                id: id, syn: segment, local: destination, remote: source,
                configuration: configuration, iss: random.next(), now: now)
            connections[id] = connection
            deliver(.connectionRequested(id))
            return
        }
        resetUnknown(segment, source: source, destination: destination)
    }

    /// Answers a segment for no connection with RST (RFC 9293 §3.10.7.1).
    private func resetUnknown(_ segment: TCPSegment, source: IPAddress, destination: IPAddress) {
        let flags = segment.flags
        let packet: UnsafeRawBufferPointer
        if flags.contains(.ack) {
            packet = encoder.tcp(
                source: destination, sourcePort: segment.destinationPort,
                destination: source, destinationPort: segment.sourcePort,
                sequence: segment.acknowledgmentNumber, acknowledgment: 0, flags: .rst, window: 0)
        } else {
            let length = segment.payload.count + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
            packet = encoder.tcp(
                source: destination, sourcePort: segment.destinationPort,
                destination: source, destinationPort: segment.sourcePort,
                sequence: 0, acknowledgment: segment.sequenceNumber &+ UInt32(length), flags: [.rst, .ack], window: 0)
        }
        statistics.resetsSent += 1
        emit(packet)
    }

    // MARK: Owner calls (TCP)

    /// Accepts a requested connection: the SYN-ACK goes out now. Returns false when the
    /// request is gone (the peer gave up) or was already answered.
    @discardableResult
    public func accept(_ id: FlowID) -> Bool {
        guard let c = connections[id], c.state == .awaitingAccept else { return false }
        c.accept(self)
        return true
    }

    /// Refuses a requested connection with RST (the program sees ECONNREFUSED).
    public func reject(_ id: FlowID) {
        connections[id]?.abort(self)
    }

    /// Queues bytes for the peer; returns how many were taken (bounded by the send buffer).
    /// When it returns short, ``NetStackEvent/writable(_:)`` follows once there is room.
    /// Data sent before the handshake completes waits for it.
    public func send(_ id: FlowID, _ bytes: UnsafeRawBufferPointer) throws(NetStackError) -> Int {
        guard let c = connections[id] else { throw .unknownConnection(id) }
        guard c.canSend else { throw .closedForSending(id) }
        return c.send(bytes, self)
    }

    /// Queues bytes held in an array; see the `UnsafeRawBufferPointer` variant.
    public func send(_ id: FlowID, _ bytes: [UInt8]) throws(NetStackError) -> Int {
        guard let c = connections[id] else { throw .unknownConnection(id) }
        guard c.canSend else { throw .closedForSending(id) }
        return bytes.withUnsafeBytes { c.send($0, self) }
    }

    /// Tells the stack the owner has finished with `count` received bytes, reopening the
    /// receive window by that much (a window update is sent when it is worth one).
    public func consumed(_ id: FlowID, count: Int) {
        connections[id]?.consumed(count, self)
    }

    /// Half-closes: our FIN follows the data already queued. The peer may keep sending.
    public func close(_ id: FlowID) {
        connections[id]?.close(self)
    }

    /// Resets the connection (RST to the peer, who sees ECONNRESET) and forgets it at once;
    /// no further event is delivered for it.
    public func abort(_ id: FlowID) {
        connections[id]?.abort(self)
    }

    /// Negotiated parameters and counters of a connection, nil when it does not exist.
    public func connectionInfo(_ id: FlowID) -> TCPConnectionInfo? {
        connections[id]?.info
    }

    /// Open TCP connections (including those awaiting accept).
    public var connectionCount: Int { connections.count }

    // MARK: Owner calls (UDP)

    /// Sends a datagram back to the workstation on `flow` (named as in the `.datagram` event:
    /// the reply goes from `flow.destination` to `flow.source`).
    public func sendDatagram(_ flow: FlowID, _ bytes: UnsafeRawBufferPointer) throws(NetStackError) {
        guard flow.source.isV4 == flow.destination.isV4 else { throw .unsupportedAddressFamily(flow) }
        let maximum = min(configuration.mtu, 65535) - (flow.source.isV4 ? 28 : 48)
        guard bytes.count <= maximum else { throw .datagramTooLarge(flow, size: bytes.count, maximum: maximum) }
        _ = udpFlows.touch(flow, now: now, idleTimeout: configuration.udpIdleTimeout)
        emit(encoder.udp(source: flow.destination, sourcePort: flow.destinationPort, destination: flow.source,
                         destinationPort: flow.sourcePort, payload: bytes))
    }

    /// Sends a datagram held in an array; see the `UnsafeRawBufferPointer` variant.
    public func sendDatagram(_ flow: FlowID, _ bytes: [UInt8]) throws(NetStackError) {
        let result = bytes.withUnsafeBytes { b in Result { () throws(NetStackError) in try sendDatagram(flow, b) } }
        try result.get()
    }

    /// UDP flows seen within the idle timeout.
    public var udpFlowCount: Int { udpFlows.count }

    // MARK: Time

    /// The earliest time ``handleTimers(now:)`` has work, nil when no timer is armed.
    public var nextDeadline: UInt64? {
        var d = udpFlows.nextCheck ?? .max
        for c in connections.values {
            if let cd = c.nextDeadline, cd < d { d = cd }
        }
        return d == .max ? nil : d
    }

    /// Runs what is due: delayed ACKs, retransmissions, zero-window probes, accept timeouts,
    /// UDP idle expiry.
    public func handleTimers(now: UInt64) {
        self.now = now
        dueScratch.removeAll(keepingCapacity: true)
        for c in connections.values {
            if let d = c.nextDeadline, d <= now { dueScratch.append(c) }
        }
        for c in dueScratch { c.handleTimers(self) }
        dueScratch.removeAll(keepingCapacity: true)
        // Owners that never call flush() rely on the delayed-ACK timer; keep the list short.
        if !ackPending.isEmpty { ackPending.removeAll { $0.ackDeadline == nil || $0.state == .closed } }
        for id in udpFlows.expire(now: now, idleTimeout: configuration.udpIdleTimeout) {
            deliver(.flowExpired(id))
        }
    }

    /// Sends the ACKs held back for segments received since the last flush. Call it after
    /// each batch of ``input(_:now:)`` calls: one ACK then covers the whole batch.
    public func flush() {
        guard !ackPending.isEmpty else { return }
        for c in ackPending where c.ackDeadline != nil && c.state != .closed {
            c.sendAck(self)
        }
        ackPending.removeAll(keepingCapacity: true)
    }

    // MARK: Internal

    func emit(_ packet: UnsafeRawBufferPointer) {
        statistics.packetsSent += 1
        onPacket(packet)
    }

    func deliver(_ event: NetStackEvent) {
        onEvent(event)
    }

    func remove(_ connection: TCPConnection) {
        if connections[connection.id] === connection { connections[connection.id] = nil }
    }

    func sendReset(to connection: TCPConnection, sequence: UInt32) {
        statistics.resetsSent += 1
        emit(encoder.tcp(
            source: connection.localAddress, sourcePort: connection.localPort,
            destination: connection.remoteAddress, destinationPort: connection.remotePort,
            sequence: sequence, acknowledgment: 0, flags: .rst, window: 0))
    }
}
