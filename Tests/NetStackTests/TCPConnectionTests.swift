import Testing
@testable import NetStack

/// The TCP state machine driven by hand-made segments, no sockets.
@Suite struct TCPConnectionTests {
    typealias F = PacketFactory

    @Test func synIsOfferedToTheOwnerAndAcceptSendsSynAckWithOptions() throws {
        let r = StackRecorder()
        r.autoAccept = false
        r.input(F.tcp(seq: 1000, flags: .syn, options: F.linuxSynOptions(mss: 1460, scale: 7)))
        #expect(r.takeEvents() == [.connectionRequested(r.flow)])
        #expect(r.packets.isEmpty)
        // A retransmitted SYN while the owner decides changes nothing.
        r.input(F.tcp(seq: 1000, flags: .syn, options: F.linuxSynOptions()))
        #expect(r.packets.isEmpty && r.events.isEmpty)
        #expect(r.stack.accept(r.flow))
        let synAck = try #require(r.takeSegments().first)
        #expect(synAck.checksumsValid)
        #expect(synAck.flags == [.syn, .ack])
        #expect(synAck.ack == 1001)
        #expect(synAck.sourcePort == 80 && synAck.destinationPort == 40000)
        // MSS 1460 (MTU 1500 - 40), then NOP + window scale.
        #expect(Array(synAck.options.prefix(4)) == [2, 4, 0x05, 0xb4])
        #expect(synAck.options[4...6] == [1, 3, 3])
        r.input(F.tcp(seq: 1001, ack: synAck.seq &+ 1, flags: .ack))
        #expect(r.takeEvents() == [.established(r.flow)])
        let info = try #require(r.stack.connectionInfo(r.flow))
        #expect(info.state == .established && info.sendMSS == 1460 && info.sendWindowScale == 7)
        #expect(info.receiveWindowScale == 8)  // 8 MiB buffer >> 8 fits 16 bits
    }

    @Test func noWindowScalingUnlessThePeerOffersIt() throws {
        let r = StackRecorder()
        r.input(F.tcp(seq: 1000, flags: .syn, options: [2, 4, 0x05, 0xb4]))
        let synAck = try #require(r.takeSegments().first)
        #expect(synAck.options == [2, 4, 0x05, 0xb4])
        #expect(r.stack.connectionInfo(r.flow)?.receiveWindowScale == nil)
    }

    @Test func rejectAndUnknownSegmentsGetReset() throws {
        let r = StackRecorder()
        r.autoAccept = false
        r.input(F.tcp(seq: 1000, flags: .syn))
        r.stack.reject(r.flow)
        let rst = try #require(r.takeSegments().first)
        #expect(rst.flags == [.rst, .ack] && rst.ack == 1001)
        #expect(r.stack.connectionCount == 0)
        r.input(F.tcp(seq: 7, ack: 99, flags: .ack, payload: [1]))
        let rst2 = try #require(r.takeSegments().first)
        #expect(rst2.flags == .rst && rst2.seq == 99)
    }

    @Test func dataIsDeliveredInOrderAndAcknowledged() throws {
        let r = StackRecorder()
        let (c, s) = r.handshake()
        r.input(F.tcp(seq: c, ack: s, flags: [.ack, .psh], payload: Array("abc".utf8)))
        #expect(r.takeEvents() == [.received(r.flow, Array("abc".utf8))])
        #expect(r.packets.isEmpty)  // the ACK waits for a second segment or flush
        r.stack.flush()
        let ack = try #require(r.takeSegments().first)
        #expect(ack.ack == c + 3 && ack.flags == .ack)
        // Out of order: the later segment is held, then both arrive in order.
        r.input(F.tcp(seq: c + 6, ack: s, flags: .ack, payload: Array("ghi".utf8)))
        let dup = try #require(r.takeSegments().first)
        #expect(dup.ack == c + 3)  // duplicate ACK names the hole
        r.input(F.tcp(seq: c + 3, ack: s, flags: .ack, payload: Array("def".utf8)))
        #expect(r.takeEvents() == [.received(r.flow, Array("def".utf8)), .received(r.flow, Array("ghi".utf8))])
        #expect(r.takeSegments().last?.ack == c + 9)
        // A retransmission of old data is acknowledged, not delivered again.
        r.input(F.tcp(seq: c, ack: s, flags: .ack, payload: Array("abc".utf8)))
        #expect(r.takeEvents().isEmpty)
        #expect(r.takeSegments().first?.ack == c + 9)
    }

    @Test func theWindowClosesUntilTheOwnerConsumes() throws {
        let r = StackRecorder { $0.receiveBufferSize = 4096 }
        let (c, s) = r.handshake(options: [2, 4, 0x05, 0xb4])
        r.input(F.tcp(seq: c, ack: s, flags: .ack, payload: [UInt8](repeating: 1, count: 1460)))
        r.input(F.tcp(seq: c + 1460, ack: s, flags: .ack, payload: [UInt8](repeating: 2, count: 1460)))
        r.input(F.tcp(seq: c + 2920, ack: s, flags: .ack, payload: [UInt8](repeating: 3, count: 1460)))
        r.stack.flush()
        #expect(r.takeSegments().last?.window == 0)
        // Bytes beyond the window are not taken; a zero-window probe is answered.
        r.input(F.tcp(seq: c + 4096, ack: s, flags: .ack, payload: [9]))
        r.input(F.tcp(seq: c + 4095, ack: s, flags: .ack))
        let answers = r.takeSegments()
        #expect(answers.count == 2 && answers.allSatisfy { $0.ack == c + 4096 && $0.window == 0 })
        #expect(r.stack.connectionInfo(r.flow)?.unconsumed == 4096)
        // Consuming reopens the window with an update.
        r.stack.consumed(r.flow, count: 4096)
        let update = try #require(r.takeSegments().first)
        #expect(update.window == 4096)
    }

    @Test func sendingRespectsThePeerWindowAndMSS() throws {
        let r = StackRecorder()
        let (c, s) = r.handshake(window: 3000, options: [2, 4, 0x05, 0xb4])
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        #expect(try r.stack.send(r.flow, data) == 10_000)
        var segments = r.takeSegments()
        #expect(segments.map(\.payload.count) == [1460, 1460])  // 3000 window, no dribbling of 80
        #expect(segments.allSatisfy { $0.checksumsValid })
        r.input(F.tcp(seq: c, ack: s + 2920, flags: .ack, window: 20000))
        segments = r.takeSegments()
        #expect(segments.map(\.payload.count).reduce(0, +) == 10_000 - 2920)
        #expect(segments.last?.flags.contains(.psh) == true)
        #expect(r.stack.connectionInfo(r.flow)?.unacknowledged == 10_000 - 2920)
    }

    @Test func lostDataIsRetransmittedAfterTheTimeoutAndAfterThreeDuplicateAcks() throws {
        let r = StackRecorder()
        let (c, s) = r.handshake()
        _ = try r.stack.send(r.flow, [UInt8](repeating: 7, count: 5000))
        let first = r.takeSegments()
        #expect(first.count == 4)
        // Three duplicate ACKs for the first segment: fast retransmit.
        for _ in 0..<3 { r.input(F.tcp(seq: c, ack: s, flags: .ack)) }
        let fast = r.takeSegments()
        #expect(fast.count == 1 && fast[0].seq == s && fast[0].payload.count == 1460)
        #expect(r.stack.statistics.fastRetransmits == 1)
        // Nothing more acknowledged: the timer resends from the first byte.
        let deadline = try #require(r.stack.nextDeadline)
        r.now = deadline
        r.stack.handleTimers(now: r.now)
        let timedOut = r.takeSegments()
        #expect(timedOut.first?.seq == s)
        #expect(r.stack.statistics.retransmissionTimeouts == 1)
        r.input(F.tcp(seq: c, ack: s + 5000, flags: .ack))
        #expect(r.stack.connectionInfo(r.flow)?.unacknowledged == 0)
        #expect(r.stack.nextDeadline == nil)
    }

    @Test func closingBothWaysEndsTheConnection() throws {
        let r = StackRecorder()
        let (c, s) = r.handshake()
        // Peer half-closes first; we can still send.
        r.input(F.tcp(seq: c, ack: s, flags: [.ack, .fin]))
        #expect(r.takeEvents() == [.peerClosed(r.flow)])
        #expect(r.takeSegments().first?.ack == c + 1)
        #expect(try r.stack.send(r.flow, [1, 2, 3]) == 3)
        r.stack.close(r.flow)
        let out = r.takeSegments()
        #expect(out.last?.flags.contains(.fin) == true)
        #expect(r.stack.connectionInfo(r.flow)?.state == .lastAck)
        #expect(throws: NetStackError.closedForSending(r.flow)) { try r.stack.send(r.flow, [4]) }
        r.input(F.tcp(seq: c + 1, ack: s + 4, flags: .ack))
        #expect(r.takeEvents() == [.closed(r.flow)])
        #expect(r.stack.connectionCount == 0)
    }

    @Test func weCloseFirstThenThePeer() throws {
        let r = StackRecorder()
        let (c, s) = r.handshake()
        r.stack.close(r.flow)
        #expect(r.takeSegments().first?.flags == [.ack, .fin])
        r.input(F.tcp(seq: c, ack: s + 1, flags: .ack))
        #expect(r.stack.connectionInfo(r.flow)?.state == .finWait2)
        r.input(F.tcp(seq: c, ack: s + 1, flags: [.ack, .fin], payload: [5]))
        #expect(r.takeEvents() == [.received(r.flow, [5]), .peerClosed(r.flow), .closed(r.flow)])
        #expect(r.takeSegments().last?.ack == c + 2)
        #expect(r.stack.connectionCount == 0)
    }

    @Test func resetFromThePeerAndAbortFromTheOwner() throws {
        let r = StackRecorder()
        let (c, _) = r.handshake()
        r.input(F.tcp(seq: c + 100, flags: .rst))  // not at RCV.NXT: challenge ACK only
        #expect(r.takeSegments().count == 1 && r.events.isEmpty)
        r.input(F.tcp(seq: c, flags: .rst))
        #expect(r.takeEvents() == [.reset(r.flow)])
        #expect(r.stack.connectionCount == 0)
        let (_, s2) = r.handshake()
        r.stack.abort(r.flow)
        let rst = try #require(r.takeSegments().first)
        #expect(rst.flags.contains(.rst) && rst.seq == s2)
        #expect(r.events.isEmpty && r.stack.connectionCount == 0)
    }

    @Test func aFullSendBufferReportsWritableOnceDrained() throws {
        let r = StackRecorder { $0.sendBufferSize = 4000 }
        let (c, s) = r.handshake()
        #expect(try r.stack.send(r.flow, [UInt8](repeating: 1, count: 6000)) == 4000)
        _ = r.takeSegments()
        r.input(F.tcp(seq: c, ack: s + 4000, flags: .ack))
        #expect(r.takeEvents() == [.writable(r.flow)])
    }

    @Test func unansweredRequestsTimeOut() throws {
        let r = StackRecorder { $0.pendingAcceptTimeout = 5_000_000_000 }
        r.autoAccept = false
        r.input(F.tcp(seq: 1000, flags: .syn))
        _ = r.takeEvents()
        r.now += 5_000_000_000
        r.stack.handleTimers(now: r.now)
        #expect(r.takeEvents() == [.reset(r.flow)])
        #expect(r.takeSegments().first?.flags.contains(.rst) == true)
    }
}
