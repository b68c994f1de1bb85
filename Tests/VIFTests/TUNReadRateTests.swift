import Glibc
import LinuxNet
import NIOCore
import NIOPosix
import NetStack
import Testing
@testable import VIF
import NetworkAddress

extension NetworkTests {
    /// How fast packets come off the TUN: a dedicated thread with poll and read, versus a NIO
    /// input-only pipe channel. A figure for choosing the driver, not an assertion.
    @Suite(.serialized)
    struct TUNReadRateTests {
        static let seconds = 1.0

        /// Creates a TUN (MTU 1500) in a fresh namespace and floods it with UDP while `read` runs.
        func measure(_ label: String, _ read: (TUNDevice, _ until: UInt64) throws -> Int) throws {
            guard NetworkTestEnvironment.check() else { return }
            let ns = try NetworkNamespace()
            defer { ns.delete() }
            let device = try ns.run {
                let d = try TUNDevice(name: "tprate0")
                try d.setMTU(1500)
                try d.setAddress(IPv4Address(10, 253, 0, 1), prefixLength: 24)
                try d.bringUp()
                try d.addRoute(IPv4Address(10, 254, 0, 0), prefixLength: 16)
                return d
            }
            defer { device.close() }
            let sender = try KernelSocket.udp(in: ns)
            defer { sender.close() }
            let until = monotonicNow() + UInt64(Self.seconds * 1e9)
            let flood = Background { () -> Int in
                let payload = [UInt8](repeating: 0x5a, count: 1472)
                var sent = 0
                while monotonicNow() < until {
                    if (try? sender.sendDatagram(payload, to: IPv4Address(10, 254, 0, 9), port: 9)) != nil { sent += 1 }
                }
                return sent
            }
            let packets = try read(device, until)
            let sent = try flood.value()
            #expect(packets > 0)
            print(String(format: "TUN read, %@: %d of %d packets in %.1f s = %.0f kpkt/s, %.0f MB/s (debug build)",
                         label, packets, sent, Self.seconds, Double(packets) / Self.seconds / 1e3,
                         Double(packets * 1500) / Self.seconds / 1e6))
        }

        @Test func pollThreadReadRate() throws {
            try measure("poll thread") { device, until in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
                defer { buffer.deallocate() }
                var count = 0
                while monotonicNow() < until {
                    guard device.waitReadable(timeout: 10_000_000).device else { continue }
                    while let n = try device.read(into: buffer), n > 0 { count += 1 }
                }
                return count
            }
        }

        @Test func nioPipeChannelReadRate() throws {
            try measure("NIO pipe channel") { device, until in
                let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
                defer { try? group.syncShutdownGracefully() }
                let counter = PacketCounter()
                let channel = try device.makeReadChannel(group: group) { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
                }.wait()
                while monotonicNow() < until { usleep(10_000) }
                let count = try channel.eventLoop.submit { counter.count }.wait()
                try? channel.close().wait()
                return count
            }
        }
    }
}

private final class PacketCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var count = 0
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { count += 1 }
}
