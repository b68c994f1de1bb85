import Testing
@testable import NetStack

@Suite struct UDPFlowTests {
    typealias F = PacketFactory

    @Test func datagramsAreDeliveredAndRepliesAreValidPackets() throws {
        let r = StackRecorder()
        r.input(F.udp(payload: Array("who".utf8)))
        let flow = FlowID(.udp, source: .v4(F.client), sourcePort: 50000, destination: .v4(F.server), destinationPort: 53)
        #expect(r.takeEvents() == [.datagram(flow, Array("who".utf8))])
        try r.stack.sendDatagram(flow, Array("me".utf8))
        let reply = try #require(r.packets.first)
        #expect(F.naiveChecksum(Array(reply[0..<20])) == 0)
        #expect(Array(reply[12..<16]) == F.be32(F.server.value) && Array(reply[16..<20]) == F.be32(F.client.value))
        let udp = Array(reply[20...])
        #expect(F.naiveChecksum(F.pseudo(F.server, F.client, 17, udp.count) + udp) == 0)
        #expect(Array(udp[0..<6]) == F.be16(53) + F.be16(50000) + F.be16(10))
        #expect(Array(udp[8...]) == Array("me".utf8))
    }

    @Test func idleFlowsExpire() throws {
        let r = StackRecorder { $0.udpIdleTimeout = 10_000_000_000 }
        r.input(F.udp(payload: [1]))
        r.now += 6_000_000_000
        r.input(F.udp(sourcePort: 50001, payload: [2]))
        _ = r.takeEvents()
        r.now += 5_000_000_000
        r.stack.handleTimers(now: r.now)
        #expect(r.takeEvents() == [.flowExpired(FlowID(.udp, source: .v4(F.client), sourcePort: 50000, destination: .v4(F.server), destinationPort: 53))])
        #expect(r.stack.udpFlowCount == 1)
        r.now += 6_000_000_000
        r.stack.handleTimers(now: r.now)
        #expect(r.stack.udpFlowCount == 0)
        #expect(r.stack.nextDeadline == nil)
    }

    @Test func oversizedDatagramsAreRefused() {
        let r = StackRecorder()
        let flow = FlowID(.udp, source: .v4(F.client), sourcePort: 1, destination: .v4(F.server), destinationPort: 2)
        #expect(throws: NetStackError.datagramTooLarge(flow, size: 1500, maximum: 1472)) {
            try r.stack.sendDatagram(flow, [UInt8](repeating: 0, count: 1500))
        }
    }
}
