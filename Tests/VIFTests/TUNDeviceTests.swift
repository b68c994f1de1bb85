import Glibc
import LinuxNet
import NIOCore
import NIOPosix
import NetStack
import TestSupport
import Testing
@testable import VIF
import NetworkAddress

extension NetworkTests {
    @Suite(.serialized)
    struct TUNDeviceTests {
        @Test func configurationIsVisibleToTheKernelAndCloseRemovesTheDevice() throws {
            try HostRequirement.kernelNetwork.require()
            let ns = try NetworkNamespace()
            defer { ns.delete() }
            let device = try ns.run {
                let d = try TUNDevice(name: "tpdev%d")
                try d.setMTU(65000)
                try d.setAddress(IPv4Address(10, 251, 7, 1), prefixLength: 24)
                try d.bringUp()
                try d.addRoute(IPv4Address(10, 96, 0, 0), prefixLength: 12)
                try d.addRoute(IPv4Address(10, 244, 3, 0), prefixLength: 24)
                return d
            }
            defer { device.close() }
            #expect(device.name == "tpdev0")
            let link = try runCommand("/usr/sbin/ip", ["-n", ns.name, "link", "show", device.name])
            #expect(link.contains("mtu 65000") && link.contains("UP"), "ip link says: \(link)")
            let addr = try runCommand("/usr/sbin/ip", ["-n", ns.name, "addr", "show", device.name])
            #expect(addr.contains("10.251.7.1/24"), "ip addr says: \(addr)")
            let routes = try runCommand("/usr/sbin/ip", ["-n", ns.name, "route"])
            #expect(routes.contains("10.96.0.0/12 dev \(device.name)"), "ip route says: \(routes)")
            #expect(routes.contains("10.244.3.0/24 dev \(device.name)"), "ip route says: \(routes)")
            try device.removeRoute(IPv4Address(10, 244, 3, 0), prefixLength: 24)
            #expect(try !runCommand("/usr/sbin/ip", ["-n", ns.name, "route"]).contains("10.244.3.0/24"))
            #expect(throws: TUNDeviceError.self) { try device.addRoute(IPv4Address(10, 96, 0, 0), prefixLength: 12) }
            device.close()
            let after = try runCommand("/usr/sbin/ip", ["-n", ns.name, "-o", "link"])
            #expect(!after.contains(device.name), "ip link says: \(after)")
        }

        /// What the kernel routes to the device comes off it as whole IP packets, through both
        /// ways of reading it: a thread's poll and read, and the NIO channel NetStackRunner uses.
        /// (How fast: `vif-bench`.)
        @Test func routedDatagramsComeOffTheDeviceWhole() throws {
            try HostRequirement.kernelNetwork.require()
            let ns = try NetworkNamespace()
            defer { ns.delete() }
            let device = try ns.run {
                let d = try TUNDevice(name: "tpread0")
                try d.setMTU(1500)
                try d.setAddress(IPv4Address(10, 253, 0, 1), prefixLength: 24)
                try d.bringUp()
                try d.addRoute(IPv4Address(10, 254, 0, 0), prefixLength: 16)
                return d
            }
            defer { device.close() }
            let sender = try KernelSocket.udp(in: ns)
            defer { sender.close() }
            let routed = IPv4Address(10, 254, 0, 9)

            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
            defer { buffer.deallocate() }
            try sender.sendDatagram(Array("by poll and read".utf8), to: routed, port: 9)
            var polled: [[UInt8]] = []
            try waitUntilBlocking("the datagram to come off the device by poll and read") {
                _ = device.waitReadable(timeout: 10_000_000)
                while let n = try device.read(into: buffer), n > 0 {
                    // The kernel also sends its own IPv6 packets (router solicitations) to a new link.
                    if let payload = Self.udpPayload(Array(buffer[0..<n]), toPort: 9) { polled.append(payload) }
                }
                return !polled.isEmpty
            }
            #expect(polled == [Array("by poll and read".utf8)])

            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            defer { try? group.syncShutdownGracefully() }
            let received = LockedBox<[[UInt8]]>([])
            let channel = try device.makeReadChannel(group: group) { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPPayloadCollector(into: received)) }
            }.wait()
            defer { try? channel.close().wait() }
            try sender.sendDatagram(Array("by the read channel".utf8), to: routed, port: 9)
            try waitUntilBlocking("the datagram to come through the read channel") { !received.value.isEmpty }
            #expect(received.value == [Array("by the read channel".utf8)])
        }

        /// The payload of an IPv4 UDP packet to `port`, checked against the packet's lengths.
        static func udpPayload(_ packet: [UInt8], toPort port: UInt16) -> [UInt8]? {
            guard packet.count >= 28, packet[0] >> 4 == 4, packet[9] == 17 else { return nil }
            let headerLength = Int(packet[0] & 0x0f) * 4
            let total = Int(packet[2]) << 8 | Int(packet[3])
            guard total == packet.count, packet.count >= headerLength + 8,
                  UInt16(packet[headerLength + 2]) << 8 | UInt16(packet[headerLength + 3]) == port else { return nil }
            let udpLength = Int(packet[headerLength + 4]) << 8 | Int(packet[headerLength + 5])
            guard udpLength == total - headerLength else { return nil }
            return Array(packet[(headerLength + 8)...])
        }

        @Test func invalidNamesAreRefused() {
            #expect(throws: TUNDeviceError.invalidName("a-name-much-too-long")) { try TUNDevice(name: "a-name-much-too-long") }
            #expect(throws: TUNDeviceError.invalidName("")) { try TUNDevice(name: "") }
        }
    }
}

/// Collects the payloads of the UDP packets to port 9 that a TUN read channel delivers.
private final class UDPPayloadCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let received: LockedBox<[[UInt8]]>
    init(into received: LockedBox<[[UInt8]]>) { self.received = received }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var packet = unwrapInboundIn(data)
        guard let bytes = packet.readBytes(length: packet.readableBytes),
              let payload = NetworkTests.TUNDeviceTests.udpPayload(bytes, toPort: 9) else { return }
        received.withLock { $0.append(payload) }
    }
}
