import Foundation
import Glibc
import LinuxNet
import NIOCore
import NIOPosix
import NetStack
import TestSupport
import Testing
import Tunnel
@testable import VIF
import NetworkAddress

/// The workstation's data path end to end, with real kernels on both sides: a program in the
/// "workstation" namespace talks to 10.99.0.5, routed to our TUN; NetStack terminates it; the
/// bridge turns it into a tunnel stream; a responder multiplexer with the real dialer, whose
/// threads live in a "cluster" namespace, dials 10.99.0.5 there, where kernel servers answer.
extension NetworkTests {
    @Suite(.serialized) struct TunnelBridgeTests {
        static let service = IPv4Address(10, 99, 0, 5)
        static let echoPort: UInt16 = 7000
        static let udpEchoPort: UInt16 = 7001
        static let closedPort: UInt16 = 7002
        static let clusterDNS = IPv4Address(10, 99, 0, 10)

        final class Harness: Sendable {
            let workstation: NetworkNamespace
            let cluster: NetworkNamespace
            let device: TUNDevice
            let hostGroup: MultiThreadedEventLoopGroup
            let clusterGroup: MultiThreadedEventLoopGroup
            let bridge: TunnelBridge
            let channels: [any Channel]

            init(workstation: NetworkNamespace, cluster: NetworkNamespace, device: TUNDevice, hostGroup: MultiThreadedEventLoopGroup,
                 clusterGroup: MultiThreadedEventLoopGroup, bridge: TunnelBridge, channels: [any Channel]) {
                self.workstation = workstation
                self.cluster = cluster
                self.device = device
                self.hostGroup = hostGroup
                self.clusterGroup = clusterGroup
                self.bridge = bridge
                self.channels = channels
            }

            /// `tunnels` multiplexer pairs, each on a socketpair, set in the bridge's slots 0...
            static func start(tunnels: Int = 1) async throws -> Harness {
                let workstation = try NetworkNamespace()
                let cluster: NetworkNamespace
                do { cluster = try NetworkNamespace() } catch { workstation.delete(); throw error }
                var cleanups: [() -> Void] = [{ workstation.delete() }, { cluster.delete() }]
                func cleanUp() { cleanups.reversed().forEach { $0() } }
                do {
                    for address in [NetworkTests.TunnelBridgeTests.service, NetworkTests.TunnelBridgeTests.clusterDNS] {
                    try runCommand("/usr/sbin/ip", ["-n", cluster.name, "addr", "add", "\(address)/32", "dev", "lo"])
                }
                    let device = try workstation.run {
                        let d = try TUNDevice(name: "tel0")
                        try d.setMTU(65000)
                        try d.setAddress(IPv4Address(10, 253, 0, 1), prefixLength: 24)
                        try d.bringUp()
                        try d.addRoute(IPv4Address(10, 99, 0, 0), prefixLength: 16)
                        return d
                    }
                    cleanups.append { device.close() }
                    // Threads inherit the namespace of the thread that creates them.
                    let clusterGroup = try cluster.run { MultiThreadedEventLoopGroup(numberOfThreads: 1) }
                    cleanups.append { try? clusterGroup.syncShutdownGracefully() }
                    let hostGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
                    cleanups.append { try? hostGroup.syncShutdownGracefully() }

                    let tcpFD = try cluster.run { try boundSocket(type: SOCK_STREAM, port: NetworkTests.TunnelBridgeTests.echoPort) }
                    let echo = try await ServerBootstrap(group: clusterGroup)
                        .childChannelOption(.allowRemoteHalfClosure, value: true)
                        .childChannelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
                        }
                        .withBoundSocket(tcpFD).get()
                    let udpFD = try cluster.run { try boundSocket(type: SOCK_DGRAM, port: NetworkTests.TunnelBridgeTests.udpEchoPort) }
                    let udpEcho = try await DatagramBootstrap(group: clusterGroup)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEchoHandler()) }
                        }
                        .withBoundSocket(udpFD).get()

                    let dnsUDPFD = try cluster.run { try boundSocket(type: SOCK_DGRAM, port: 53) }
                let dnsUDP = try await DatagramBootstrap(group: clusterGroup)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FakeClusterDNS.UDPHandler()) }
                    }
                    .withBoundSocket(dnsUDPFD).get()
                let dnsTCPFD = try cluster.run { try boundSocket(type: SOCK_STREAM, port: 53) }
                let dnsTCP = try await ServerBootstrap(group: clusterGroup)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(FakeClusterDNS.TCPHandler()) }
                    }
                    .withBoundSocket(dnsTCPFD).get()

                    let dialer = TunnelDialer(defaultTimeout: .seconds(5))
                    var pairs: [any Channel] = []
                    var initiators: [any Channel] = []
                    for _ in 0..<tunnels {
                    var fds: [Int32] = [0, 0]
                    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                        throw NamespaceError("socketpair", errno)
                    }
                    let responder = try await NIOPipeBootstrap(group: clusterGroup)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(TunnelMultiplexer(role: .responder) { stream, open in
                                    dialer.handle(stream, open)
                                })
                            }
                        }
                        .takingOwnershipOfDescriptor(inputOutput: fds[1]).get()
                    let initiator = try await NIOPipeBootstrap(group: hostGroup)
                        .channelInitializer { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(TunnelMultiplexer(role: .initiator))
                            }
                        }
                        .takingOwnershipOfDescriptor(inputOutput: fds[0]).get()
                    // Prepended: the last channel is slot 0's initiator (what `multiplexer()` reads).
                    pairs = [responder, initiator] + pairs
                    initiators.append(initiator)
                    }
                    let channels: [any Channel] = [echo, udpEcho, dnsUDP, dnsTCP] + pairs
                    cleanups.append { for channel in channels { try? channel.close().wait() } }
                    let bridge = try TunnelBridge(device: device, stack: NetStackConfiguration(), eventLoop: hostGroup.next())
                    cleanups.append { bridge.shutdown() }
                    for (slot, initiator) in initiators.enumerated() {
                        try await initiator.eventLoop.submit {
                            bridge.setMultiplexer(try initiator.pipeline.syncOperations.handler(type: TunnelMultiplexer.self), slot: slot)
                        }.get()
                    }
                    return Harness(workstation: workstation, cluster: cluster, device: device, hostGroup: hostGroup,
                                   clusterGroup: clusterGroup, bridge: bridge, channels: channels)
                } catch {
                    cleanUp()
                    throw error
                }
            }

            /// The tunnel's multiplexer (call on the bridge's event loop).
        func multiplexer() -> TunnelMultiplexer? {
            try? channels.last?.pipeline.syncOperations.handler(type: TunnelMultiplexer.self)
        }

        func statistics() async throws -> TunnelBridge.Statistics {
                try await bridge.eventLoop.submit { self.bridge.statistics }.get()
            }

            func shutdown() async {
                bridge.shutdown()
                for channel in channels { try? await channel.close() }
                try? await hostGroup.shutdownGracefully()
                try? await clusterGroup.shutdownGracefully()
                device.close()
                workstation.delete()
                cluster.delete()
            }
        }

        static func withHarness(tunnels: Int = 1, _ body: (Harness) async throws -> Void) async throws {
            try HostRequirement.kernelNetwork.require()
            let harness = try await Harness.start(tunnels: tunnels)
            do {
                try await body(harness)
            } catch {
                await harness.shutdown()
                throw error
            }
            await harness.shutdown()
        }

        /// Several tunnel connections: each new flow goes to the one with the fewest streams,
        /// and none goes to a connection that is down.
        @Test func flowsSpreadOverTheTunnelConnectionsThatAreUp() async throws {
            try await Self.withHarness(tunnels: 2) { harness in
                // Streams per initiator, slot 0 first (the harness lists the pairs last to first).
                func streamCounts() async throws -> [Int] {
                    try await harness.bridge.eventLoop.submit {
                        // The initiators share the bridge's loop; the responders live on the cluster's.
                        harness.channels.filter { $0.eventLoop.inEventLoop }
                            .compactMap { try? $0.pipeline.syncOperations.handler(type: TunnelMultiplexer.self) }
                            .filter { $0.role == .initiator }
                            .reversed()
                            .map(\.streamCount)
                    }.get()
                }
                var sockets: [KernelSocket] = []
                defer { sockets.forEach { $0.close() } }
                for _ in 0..<4 {
                    let socket = try KernelSocket.connect(in: harness.workstation, to: Self.service, port: Self.echoPort)
                    try socket.sendPattern(total: 100)
                    #expect(try socket.receiveExactly(100).count == 100)
                    sockets.append(socket)
                }
                #expect(try await streamCounts() == [2, 2])
                // Slot 1 goes down: new flows all take slot 0.
                try await harness.bridge.eventLoop.submit { harness.bridge.setMultiplexer(nil, slot: 1) }.get()
                for _ in 0..<2 {
                    let socket = try KernelSocket.connect(in: harness.workstation, to: Self.service, port: Self.echoPort)
                    try socket.sendPattern(total: 100)
                    #expect(try socket.receiveExactly(100).count == 100)
                    sockets.append(socket)
                }
                #expect(try await streamCounts() == [4, 2])
            }
        }

        @Test func aMegabyteEchoesThroughTheTunnelIntact() async throws {
            try await Self.withHarness { harness in
                let socket = try KernelSocket.connect(in: harness.workstation, to: Self.service, port: Self.echoPort)
                defer { socket.close() }
                let size = 1 << 20
                let receiver = Background { try socket.receiveExactly(size) }
                try socket.sendPattern(total: size)
                let echoed = try receiver.value()
                #expect(echoed.count == size)
                #expect(echoed.withUnsafeBytes { Pattern.matches($0, at: 0) })
                let stats = try await harness.statistics()
                #expect(stats.opened == 1 && stats.openFailed == 0)
            }
        }

        @Test func bulkBothWaysKeepsEveryByte() async throws {
            try await Self.withHarness { harness in
                let socket = try KernelSocket.connect(in: harness.workstation, to: Self.service, port: Self.echoPort)
                defer { socket.close() }
                let size = 32 << 20
                let receiver = Background { () throws -> (Int, Bool) in
                    var offset = 0
                    var intact = true
                    while offset < size {
                        let chunk = try socket.receive(maximum: min(1 << 20, size - offset))
                        if chunk.isEmpty { break }
                        intact = intact && chunk.withUnsafeBytes { Pattern.matches($0, at: offset) }
                        offset += chunk.count
                    }
                    return (offset, intact)
                }
                let start = monotonicNow()
                try socket.sendPattern(total: size)
                let (received, intact) = try receiver.value()
                let seconds = Double(monotonicNow() - start) / 1e9
                #expect(received == size && intact)
                print("bridge echo: \(size >> 20) MiB each way in \(String(format: "%.2f", seconds)) s (\(String(format: "%.0f", Double(size) / seconds / 1e6)) MB/s per direction, debug build)")
            }
        }

        /// A reset, not the socket's 5 s receive timeout: the cluster side's refusal comes back.
        @Test func aClosedPortResetsTheLocalSocket() async throws {
            try await Self.withHarness { harness in
                let socket = try KernelSocket.connect(in: harness.workstation, to: Self.service, port: Self.closedPort, timeoutSeconds: 5)
                defer { socket.close() }
                try? socket.send(Array("GET / HTTP/1.0\r\n\r\n".utf8))
                var failure: SocketError?
                do { _ = try socket.receive() } catch let error as SocketError { failure = error }
                #expect(failure?.code == ECONNRESET, "the local socket must see a reset, saw \(String(describing: failure))")
                let stats = try await harness.statistics()
                #expect(stats.openFailed == 1)
            }
        }

        @Test func udpRequestAndAnswer() async throws {
            try await Self.withHarness { harness in
                let socket = try KernelSocket.udp(in: harness.workstation)
                defer { socket.close() }
                try socket.sendDatagram(Array("ping-1".utf8), to: Self.service, port: Self.udpEchoPort)
                #expect(String(decoding: try socket.receive(), as: UTF8.self) == "ping-1")
                try socket.sendDatagram(Array("ping-2".utf8), to: Self.service, port: Self.udpEchoPort)
                #expect(String(decoding: try socket.receive(), as: UTF8.self) == "ping-2")
                let stats = try await harness.statistics()
                #expect(stats.opened == 1, "one flow, one stream")
            }
        }

        @Test func twoHundredParallelConnections() async throws {
            try await Self.withHarness { harness in
                let sockets = try (0..<200).map { _ in try KernelSocket.connect(in: harness.workstation, to: Self.service, port: Self.echoPort) }
                defer { sockets.forEach { $0.close() } }
                for (i, socket) in sockets.enumerated() { try socket.send(Array("hello \(i)".utf8)) }
                for (i, socket) in sockets.enumerated() {
                    let expected = "hello \(i)"
                    #expect(String(decoding: try socket.receiveExactly(expected.utf8.count), as: UTF8.self) == expected)
                }
                #expect(try await harness.statistics().opened == 200)
            }
        }
    }

}

/// A socket bound to 0.0.0.0:`port` (listening for TCP) in the calling thread's namespace.
func boundSocket(type: __socket_type, port: UInt16) throws -> Int32 {
    let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw NamespaceError("socket", errno) }
    var one: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_port = port.bigEndian
    let bound = withUnsafePointer(to: &sin) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, type != SOCK_STREAM || listen(fd, 256) == 0 else {
        let e = errno
        close(fd)
        throw NamespaceError("bind/listen port \(port)", e)
    }
    return fd
}

final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }
    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { context.close(promise: nil) }
    }
}

final class UDPEchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: envelope.data)), promise: nil)
    }
}
