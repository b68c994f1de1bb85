import Foundation
import Glibc
import NetStack
import TestSupport
import Testing
@testable import VIF
import NetworkAddress

extension NetworkTests {
    /// NetStack against the real Linux TCP stack through a real TUN device in a throwaway
    /// network namespace. In CI (CI=true) a machine without TUN or netns support fails these tests.
    @Suite(.serialized)
    struct KernelPeerTests {
        static let echoPort: UInt16 = 7
        static let sinkPort: UInt16 = 9
        static let sourcePort: UInt16 = 19
        static let refusePort: UInt16 = 1
        static let holdPort: UInt16 = 2

        /// Runs `body` with a harness whose loop serves the standard ports, always cleaning up.
        func withHarness(
            mtu: Int = 65000, sourceBytes: Int = 0, sourceCloses: Bool = true,
            configure: @escaping @Sendable (inout NetStackConfiguration) -> Void = { _ in },
            _ body: (StackHarness) throws -> Void
        ) throws {
            try HostRequirement.kernelNetwork.require()
            let harness = try StackHarness(mtu: mtu, configure: configure)
            defer { harness.shutdown() }
            harness.sync { loop in
                loop.modes = [
                    Self.echoPort: .echo, Self.sinkPort: .sink, Self.refusePort: .refuse, Self.holdPort: .hold,
                    Self.sourcePort: .source(total: sourceBytes, close: sourceCloses),
                ]
            }
            try body(harness)
        }

        func connect(_ h: StackHarness, port: UInt16, receiveBuffer: Int? = nil) throws -> KernelSocket {
            try KernelSocket.connect(in: h.namespace, to: StackHarness.routedAddress, port: port, receiveBuffer: receiveBuffer)
        }

        func flow(_ h: StackHarness, _ s: KernelSocket) -> FlowID? {
            let port = s.localPort
            return h.sync { $0.flow(fromPort: port) }
        }

        @Test func handshakeNegotiatesMSSAndWindowScaling() throws {
            try withHarness { h in
                let s = try connect(h, port: Self.echoPort)
                defer { s.close() }
                try s.send(Array("hello".utf8))
                #expect(try s.receiveExactly(5) == Array("hello".utf8))
                let id = try #require(flow(h, s))
                let info = try #require(h.sync { $0.stack.connectionInfo(id) })
                #expect(info.state == .established)
                #expect(info.sendMSS == 64960)
                #expect(info.peerMSS == 64960)
                #expect(info.receiveWindowScale != nil && info.sendWindowScale != nil)
                #expect(info.receiveWindow > 4 << 20)
                // The kernel's view: it sends with our scale and segments of our MSS.
                let ss = try h.namespace.exec(["ss", "-tin", "dst", "\(StackHarness.routedAddress)"])
                #expect(ss.contains("wscale:\(info.receiveWindowScale!),\(info.sendWindowScale!)"), "ss says: \(ss)")
                #expect(ss.contains("mss:64960"), "ss says: \(ss)")
            }
        }

        @Test func refusedConnectionSeesConnectionRefused() throws {
            try withHarness { h in
                #expect {
                    _ = try connect(h, port: Self.refusePort)
                } throws: { ($0 as? SocketError)?.code == ECONNREFUSED }
            }
        }

        @Test func bulkFromKernelArrivesIntact() throws {
            try withHarness { h in
                let total = 64 << 20
                let s = try connect(h, port: Self.sinkPort)
                defer { s.close() }
                let start = monotonicNow()
                try s.sendPattern(total: total)
                s.shutdownWrite()
                let id = try #require(flow(h, s))
                try h.waitUntil("the kernel's FIN after the bulk") { $0.records[id]?.peerClosed == true }
                let seconds = Double(monotonicNow() - start) / 1e9
                let record = try #require(h.sync { $0.records[id] })
                #expect(record.received == total)
                #expect(record.intact)
                print("kernel -> NetStack, MTU 65000: \(total >> 20) MiB in \(String(format: "%.2f", seconds)) s = \(String(format: "%.0f", Double(total) / seconds / 1e6)) MB/s (debug build)")
            }
        }

        @Test func bulkToKernelArrivesIntactWithFin() throws {
            let total = 64 << 20
            try withHarness(sourceBytes: total) { h in
                let start = monotonicNow()
                let s = try connect(h, port: Self.sourcePort)
                defer { s.close() }
                let (count, intact) = try s.receivePattern()
                let seconds = Double(monotonicNow() - start) / 1e9
                #expect(count == total)
                #expect(intact)
                print("NetStack -> kernel, MTU 65000: \(total >> 20) MiB in \(String(format: "%.2f", seconds)) s = \(String(format: "%.0f", Double(total) / seconds / 1e6)) MB/s (debug build)")
            }
        }

        @Test func halfCloseLetsTheStackKeepSending() throws {
            try withHarness { h in
                let s = try connect(h, port: Self.echoPort)
                defer { s.close() }
                let total = 4 << 20
                // The echo cannot all be queued before the FIN: the stack sends after peerClosed.
                try s.sendPattern(total: total)
                s.shutdownWrite()
                let (count, intact) = try s.receivePattern()
                #expect(count == total)
                #expect(intact)
                let id = try #require(flow(h, s))
                try h.waitUntil("the connection to close") { $0.records[id]?.closed == true }
                #expect(h.sync { $0.records[id]?.peerClosed } == true)
                #expect(h.sync { $0.stack.connectionCount } == 0)
            }
        }

        @Test func abortResetsTheKernelSocket() throws {
            try withHarness { h in
                let s = try connect(h, port: Self.echoPort)
                defer { s.close() }
                try s.send([1, 2, 3])
                _ = try s.receiveExactly(3)
                let id = try #require(flow(h, s))
                h.sync { $0.stack.abort(id) }
                #expect {
                    _ = try s.receive()
                } throws: { ($0 as? SocketError)?.code == ECONNRESET }
                #expect(h.sync { $0.stack.connectionCount } == 0)
            }
        }

        @Test func kernelResetReachesTheOwner() throws {
            try withHarness { h in
                let s = try connect(h, port: Self.echoPort)
                try s.send([1])
                _ = try s.receiveExactly(1)
                let id = try #require(flow(h, s))
                s.resetAndClose()
                try h.waitUntil("the kernel's RST to reach the owner") { $0.records[id]?.reset == true }
                #expect(h.sync { $0.stack.connectionCount } == 0)
            }
        }

        @Test func zeroWindowHoldsTheSenderUntilConsumed() throws {
            let buffer = 512 << 10
            try withHarness(configure: { $0.receiveBufferSize = buffer }) { h in
                h.sync { $0.sinkPaused = true }
                let s = try connect(h, port: Self.sinkPort)
                defer { s.close() }
                let total = 8 << 20
                let sender = Background { try s.sendPattern(total: total) }
                let port = s.localPort
                try h.waitUntil("the connection to reach the stack", timeout: .seconds(5)) { $0.flow(fromPort: port) != nil }
                let id = try #require(flow(h, s))
                // The window closes at the buffer size and stays closed across the kernel's probes.
                try h.waitUntil("the receive window to close") { $0.stack.connectionInfo(id)?.receiveWindow == 0 }
                let stalled = h.sync { $0.records[id]!.received }
                #expect(stalled <= buffer)
                // The sleep is the test: time must pass for the kernel to send its zero-window
                // probes (several intervals), and through all of them nothing may get in.
                usleep(600_000)
                #expect(h.sync { $0.records[id]!.received } == stalled)
                #expect(s.unsentBytes > 0)
                h.sync { $0.resumeSink() }
                try sender.value()
                s.shutdownWrite()
                try h.waitUntil("the kernel's FIN after the held bytes") { $0.records[id]?.peerClosed == true }
                let record = try #require(h.sync { $0.records[id] })
                #expect(record.received == total)
                #expect(record.intact)
            }
        }

        @Test func manyConcurrentConnections() throws {
            try withHarness { h in
                let clients = (0..<128).map { i in
                    Background { () -> Bool in
                        let s = try connect(h, port: Self.echoPort)
                        defer { s.close() }
                        let message = (0..<(32 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
                        try s.send(message)
                        return try s.receiveExactly(message.count) == message
                    }
                }
                var ok = 0
                for c in clients where try c.value() { ok += 1 }
                #expect(ok == 128)
                try h.waitUntil("every connection to close") { $0.stack.connectionCount == 0 }
            }
        }

        @Test func lostSegmentFromStackIsRetransmitted() throws {
            let total = 8 << 20
            try withHarness(mtu: 1500, sourceBytes: total) { h in
                h.sync { loop in
                    var seen = 0
                    loop.dropOutgoing = { packet in
                        guard isTCPData(packet) else { return false }
                        seen += 1
                        return seen == 20 || seen == 400
                    }
                }
                let s = try connect(h, port: Self.sourcePort)
                defer { s.close() }
                let (count, intact) = try s.receivePattern()
                #expect(count == total)
                #expect(intact)
                let stats = h.sync { $0.stack.statistics }
                #expect(h.sync { $0.droppedOutgoing } == 2)
                #expect(stats.retransmittedSegments >= 2)
            }
        }

        @Test func lostSegmentFromKernelIsRecovered() throws {
            try withHarness(mtu: 1500) { h in
                h.sync { loop in
                    var seen = 0
                    loop.dropIncoming = { packet in
                        guard isTCPData(packet) else { return false }
                        seen += 1
                        return seen == 20 || seen == 21 || seen == 500
                    }
                }
                let s = try connect(h, port: Self.sinkPort)
                defer { s.close() }
                let total = 8 << 20
                try s.sendPattern(total: total)
                s.shutdownWrite()
                let id = try #require(flow(h, s))
                try h.waitUntil("the kernel's FIN after the lost segments") { $0.records[id]?.peerClosed == true }
                let record = try #require(h.sync { $0.records[id] })
                #expect(record.received == total)
                #expect(record.intact)
                #expect(h.sync { $0.droppedIncoming } == 3)
                #expect(h.sync { $0.stack.statistics.outOfOrderSegments } > 0)
            }
        }

        @Test func udpDatagramsEchoAndFlowsExpire() throws {
            try withHarness(configure: { $0.udpIdleTimeout = 300_000_000 }) { h in
                let s = try KernelSocket.udp(in: h.namespace)
                defer { s.close() }
                for i in 0..<3 {
                    let message = Array("ping \(i)".utf8)
                    try s.sendDatagram(message, to: StackHarness.routedAddress, port: 53)
                    #expect(try s.receive() == message)
                }
                #expect(h.sync { $0.stack.udpFlowCount } == 1)
                try h.waitUntil("the idle UDP flow to expire", timeout: .seconds(5)) { $0.expiredFlows.count == 1 }
                #expect(h.sync { $0.stack.udpFlowCount } == 0)
                let expired = try #require(h.sync { $0.expiredFlows.first })
                #expect(expired.destinationPort == 53)
                #expect(expired.sourcePort == s.localPort)
            }
        }

        @Test func ipv6EchoAndDatagrams() throws {
            try withHarness { h in
                // The TUN gets fd00:251::1/64 and routes fd00:252::/64 (nodad: no neighbours on a TUN).
                try h.namespace.exec(["ip", "-6", "addr", "add", "fd00:251::1/64", "dev", h.device.name, "nodad"])
                try h.namespace.exec(["ip", "-6", "route", "add", "fd00:252::/64", "dev", h.device.name])
                let routed = IPv6Address(high: 0xfd00_0252_0000_0000, low: 5)
                let s = try KernelSocket.connect(in: h.namespace, to: routed, port: Self.echoPort)
                defer { s.close() }
                let total = 4 << 20
                let sender = Background { try s.sendPattern(total: total); s.shutdownWrite() }
                let (count, intact) = try s.receivePattern()
                try sender.value()
                #expect(count == total && intact)
                let id = try #require(flow(h, s))
                #expect(id.destination == .v6(routed))
                try h.waitUntil("the IPv6 connection to close") { $0.records[id]?.closed == true }
                let u = try KernelSocket.udp6(in: h.namespace)
                defer { u.close() }
                try u.sendDatagram(Array("v6?".utf8), to: routed, port: 53)
                #expect(try u.receive() == Array("v6?".utf8))
            }
        }

        @Test func ipv6NegotiatesTheLargerHeaderMSS() throws {
            try withHarness { h in
                try h.namespace.exec(["ip", "-6", "addr", "add", "fd00:251::1/64", "dev", h.device.name, "nodad"])
                try h.namespace.exec(["ip", "-6", "route", "add", "fd00:252::/64", "dev", h.device.name])
                let s = try KernelSocket.connect(in: h.namespace, to: IPv6Address(high: 0xfd00_0252_0000_0000, low: 7), port: Self.echoPort)
                defer { s.close() }
                let id = try #require(flow(h, s))
                let info = try #require(h.sync { $0.stack.connectionInfo(id) })
                #expect(info.sendMSS == 65000 - 60 && info.peerMSS == 65000 - 60)
            }
        }

        @Test func pingToRoutedAddressIsAnswered() throws {
            try withHarness { h in
                let s = try KernelSocket.rawICMP(in: h.namespace)
                defer { s.close() }
                // Echo request: type 8, code 0, checksum, identifier 0x1234, sequence 1, payload.
                var request: [UInt8] = [8, 0, 0, 0, 0x12, 0x34, 0, 1] + Array("telepresence".utf8)
                let sum = request.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.add($0)) }
                withUnsafeBytes(of: sum) { request[2] = $0[0]; request[3] = $0[1] }
                try s.sendDatagram(request, to: StackHarness.routedAddress, port: 0)
                let reply = try s.receive()  // a raw socket sees the IP header too
                let icmp = Array(reply.dropFirst(Int(reply[0] & 0x0f) * 4))
                #expect(icmp.first == 0)  // echo reply
                #expect(Array(icmp.dropFirst(4)) == Array(request.dropFirst(4)))
                #expect(h.sync { $0.stack.statistics.echoRepliesSent } == 1)
            }
        }

        @Test func deferredAcceptCompletesTheHandshakeLater() throws {
            try withHarness { h in
                let client = Background { try connect(h, port: Self.holdPort) }
                try h.waitUntil("the held SYN to reach the owner") { $0.records.count == 1 }
                let id = try #require(h.sync { $0.records.keys.first })
                #expect(h.sync { $0.stack.connectionInfo(id)?.state } == .awaitingAccept)
                // The owner may send before the handshake completes: it waits for it.
                #expect(h.sync { (try? $0.stack.send(id, Array("early".utf8))) ?? 0 } == 5)
                #expect(h.sync { $0.stack.accept(id) })
                let s = try client.value()
                defer { s.close() }
                #expect(try s.receiveExactly(5) == Array("early".utf8))
            }
        }

        @Test func lostFinIsRetransmittedOnTimeout() throws {
            try withHarness(sourceBytes: 100_000) { h in
                h.sync { loop in
                    var dropped = false
                    loop.dropOutgoing = { packet in
                        // The last segment carries FIN; with nothing after it there are no
                        // duplicate ACKs, so only the retransmission timer can recover it.
                        guard !dropped, packet.count >= 40, packet[9] == 6, packet[20 + 13] & 0x01 != 0 else { return false }
                        dropped = true
                        return true
                    }
                }
                let s = try connect(h, port: Self.sourcePort)
                defer { s.close() }
                let (count, intact) = try s.receivePattern()
                #expect(count == 100_000 && intact)
                #expect(h.sync { $0.droppedOutgoing } == 1)
                #expect(h.sync { $0.stack.statistics.retransmissionTimeouts } >= 1)
            }
        }

        @Test(arguments: [1500, 65000])
        func throughput(mtu: Int) throws {
            let total = 32 << 20
            try withHarness(mtu: mtu, sourceBytes: total) { h in
                var start = monotonicNow()
                let up = try connect(h, port: Self.sinkPort)
                defer { up.close() }
                try up.sendPattern(total: total)
                up.shutdownWrite()
                let id = try #require(flow(h, up))
                try h.waitUntil("the kernel's FIN after the upload", timeout: .seconds(60)) { $0.records[id]?.peerClosed == true }
                let upSeconds = Double(monotonicNow() - start) / 1e9
                #expect(h.sync { $0.records[id]?.received } == total)
                start = monotonicNow()
                let down = try connect(h, port: Self.sourcePort)
                defer { down.close() }
                let (count, intact) = try down.receivePattern()
                let downSeconds = Double(monotonicNow() - start) / 1e9
                #expect(count == total && intact)
                print(String(format: "throughput MTU %5d: kernel->stack %.0f MB/s, stack->kernel %.0f MB/s (%d MiB each, debug build)",
                             mtu, Double(total) / upSeconds / 1e6, Double(total) / downSeconds / 1e6, total >> 20))
            }
        }
    }
}
