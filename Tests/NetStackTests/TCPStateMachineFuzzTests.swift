import TestSupport
import Testing
@testable import NetStack

/// Random but well-formed (checksummed) segments and owner calls against live connections:
/// whatever a confused or hostile peer sends, the stack must not trap.
@Suite struct TCPStateMachineFuzzTests {
    typealias F = PacketFactory

    @Test(arguments: 0..<8)
    func randomSegmentsAndOwnerCallsNeverTrap(round: Int) throws {
        // Seeded per round: a failure replays exactly, and the coverage check below is stable.
        var rng = SeededGenerator(seed: UInt64(round) &+ 0x9E37_79B9)
        let r = StackRecorder {
            $0.receiveBufferSize = 64 << 10
            $0.sendBufferSize = 32 << 10
            $0.outOfOrderLimit = 16 << 10
        }
        let flagChoices: [TCPFlags] = [.ack, .ack, .ack, [.ack, .psh], [.ack, .psh], [.ack, .fin], .rst, .syn, [.syn, .ack], [.ack, .rst], [], [.fin]]
        var (c, s) = r.handshake(options: round % 2 == 0 ? F.linuxSynOptions() : [2, 4, 0x05, 0xb4])
        var emitted = 0
        var delivered = 0
        for step in 0..<4000 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                _ = try? r.stack.send(r.flow, [UInt8](repeating: 1, count: Int.random(in: 1...5000, using: &rng)))
            case 1:
                r.stack.consumed(r.flow, count: Int.random(in: 0...20000, using: &rng))
            case 2 where step % 500 == 499:
                r.stack.close(r.flow)
            case 3:
                r.now += UInt64.random(in: 0...400_000_000, using: &rng)
                r.stack.handleTimers(now: r.now)
            case 4:
                r.stack.flush()
            default:
                let flags = flagChoices.randomElement(using: &rng)!
                // Mostly in sequence (so data flows), sometimes anywhere near the windows.
                let seq = Int.random(in: 0..<3, using: &rng) > 0
                    ? c : c &+ UInt32(bitPattern: Int32.random(in: -3000...70000, using: &rng))
                let ack = Int.random(in: 0..<3, using: &rng) > 0
                    ? s : s &+ UInt32(bitPattern: Int32.random(in: -3000...40000, using: &rng))
                let length = Bool.random(using: &rng) ? 0 : Int.random(in: 1...3000, using: &rng)
                r.input(F.tcp(seq: seq, ack: ack, flags: flags, window: UInt16.random(in: 0...65535, using: &rng),
                              payload: [UInt8](repeating: 2, count: length)))
            }
            if r.stack.connectionCount == 0 || step % 1000 == 999 {
                // Start over with a fresh connection (a new port keeps the old one's segments apart).
                r.stack.abort(r.flow)
                (c, s) = r.handshake()
            }
            // Follow the stack's view: its ACK is our next sequence number, its data our ACK.
            for segment in r.packets.compactMap(F.readTCP) {
                c = segment.ack
                let end = segment.seq &+ UInt32(segment.payload.count)
                if Int32(bitPattern: end &- s) > 0 { s = end }
            }
            emitted += r.packets.count
            delivered += r.events.filter { if case .received = $0 { true } else { false } }.count
            r.packets.removeAll(keepingCapacity: true)
            r.events.removeAll(keepingCapacity: true)
        }
        #expect(r.stack.connectionCount <= 1)
        // The walk did reach the interesting states: data went both ways.
        #expect(emitted > 1000 && delivered > 50, "emitted \(emitted), delivered \(delivered)")
    }
}

