import Dispatch
import Foundation
import Glibc
import LinuxNet
import NIOCore
import NIOPosix
import NetworkAddress
import VIF

/// One measurement: a sender thread floods UDP datagrams of one MTU at the target for a fixed
/// time while a reader counts the packets it gets.
enum Flood {
    /// Where the datagrams go.
    enum Target {
        /// Routed to a TUN device (10.254.0.0/16 via vifbench0), read as IP packets.
        case tun
        /// To a UDP socket on loopback, read as datagrams: the kernel's own receive path.
        case udpSocket
    }

    /// What a reader got. Bytes count whole IP packets for both targets (UDP payload + 28).
    struct Figures: Codable {
        var packets: Int
        var bytes: Int
        var sent: Int
        var seconds: Double
        var packetsPerSecond: Double { Double(packets) / seconds }
        var megabytesPerSecond: Double { Double(bytes) / seconds / 1e6 }
    }

    /// IPv4 and UDP headers: what a datagram of `mtu - 28` payload bytes adds up to on the wire.
    static let headers = 28

    static func measure(_ target: Target, reader: Reader, mtu: Int, seconds: Double) throws -> Figures {
        let sink = try Sink(target, mtu: mtu)
        defer { sink.close() }
        let counting = try reader == .nio ? NIOCounter(sink) : nil
        defer { counting?.stop() }
        let until = monotonicNanoseconds() + UInt64(seconds * 1e9)
        let destination = sink.destination
        let sender = OnThread { try sendUntil(until, to: destination, payload: mtu - headers) }
        let (packets, bytes): (Int, Int)
        if let counting {
            while monotonicNanoseconds() < until { usleep(10_000) }
            (packets, bytes) = try counting.counts()
        } else {
            (packets, bytes) = try pollUntil(until, sink)
        }
        let sent = try sender.value()
        return Figures(packets: packets, bytes: bytes, sent: sent, seconds: seconds)
    }

    /// Sends datagrams of `payload` bytes to `destination` until `until`; returns how many.
    private static func sendUntil(_ until: UInt64, to destination: sockaddr_in, payload: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PrivateNetwork.Failure(description: "sender socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = [UInt8](repeating: 0x5a, count: payload)
        var address = destination
        var sent = 0
        while monotonicNanoseconds() < until {
            let n = bytes.withUnsafeBytes { raw in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            if n == payload { sent += 1 }
        }
        return sent
    }

    /// The poll reader: this thread waits for the descriptor, then reads until it is empty.
    private static func pollUntil(_ until: UInt64, _ sink: Sink) throws -> (Int, Int) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { buffer.deallocate() }
        var packets = 0, bytes = 0
        while monotonicNanoseconds() < until {
            var ready = pollfd(fd: sink.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 10) > 0 else { continue }
            while true {
                let n = read(sink.fileDescriptor, buffer.baseAddress, buffer.count)
                guard n > 0 else { break }  // EAGAIN: empty for now
                packets += 1
                bytes += n + sink.headerBytesNotRead
            }
        }
        return (packets, bytes)
    }
}

/// The target's receiving end: a TUN device, or a UDP socket on loopback.
final class Sink {
    let fileDescriptor: Int32
    let destination: sockaddr_in
    /// Bytes of each packet the reader does not see (a UDP socket returns the payload only).
    let headerBytesNotRead: Int
    /// The device, when the target is a TUN.
    let device: TUNDevice?

    init(_ target: Flood.Target, mtu: Int) throws {
        switch target {
        case .tun:
            let device = try TUNDevice(name: "vifbench0")
            try device.setMTU(mtu)
            try device.setAddress(IPv4Address(10, 253, 0, 1), prefixLength: 24)
            try device.bringUp()
            try device.addRoute(IPv4Address(10, 254, 0, 0), prefixLength: 16)
            self.device = device
            fileDescriptor = device.fileDescriptor
            destination = Self.address(IPv4Address(10, 254, 0, 9), port: 9)
            headerBytesNotRead = 0
        case .udpSocket:
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard fd >= 0 else { throw PrivateNetwork.Failure(description: "receiver socket: \(String(cString: strerror(errno)))") }
            // Room for as many packets as the TUN's queue holds (500), whatever their size: the
            // default buffer would drop large datagrams that the TUN would have kept.
            var room = Int32(500 * (mtu + 1024))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &room, socklen_t(MemoryLayout<Int32>.size))
            var address = Self.address(IPv4Address(127, 0, 0, 1), port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
            }
            guard bound else {
                let e = errno
                Glibc.close(fd)
                throw PrivateNetwork.Failure(description: "bind 127.0.0.1: \(String(cString: strerror(e)))")
            }
            device = nil
            fileDescriptor = fd
            destination = address
            headerBytesNotRead = Flood.headers
        }
    }

    func close() {
        if let device { device.close() } else { _ = Glibc.close(fileDescriptor) }
    }

    static func address(_ ip: IPv4Address, port: UInt16) -> sockaddr_in {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = ip.value.bigEndian
        sin.sin_port = port.bigEndian
        return sin
    }
}

/// The NIO reader: the TUN as an input-only pipe channel (`TUNDevice.makeReadChannel`, as
/// NetStackRunner reads it), the UDP socket as a datagram channel, each on one event loop.
final class NIOCounter {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channel: any Channel
    private let counter = PacketCounter()

    init(_ sink: Sink) throws {
        let counter = counter
        let headers = sink.headerBytesNotRead
        do {
            if let device = sink.device {
                channel = try device.makeReadChannel(group: group) { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
                }.wait()
            } else {
                // NIO takes the descriptor over; the sink keeps a duplicate to close.
                channel = try DatagramBootstrap(group: group)
                    .channelOption(.maxMessagesPerRead, value: 64)
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(DatagramCounter(counter: counter, headers: headers))
                        }
                    }
                    .withBoundSocket(dup(sink.fileDescriptor)).wait()
            }
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    func counts() throws -> (Int, Int) {
        let counter = counter
        return try channel.eventLoop.submit { (counter.packets, counter.bytes) }.wait()
    }

    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Counts the TUN channel's packets (one `ByteBuffer` each); lives on its event loop.
final class PacketCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    var packets = 0
    var bytes = 0
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        packets += 1
        bytes += unwrapInboundIn(data).readableBytes
    }
}

/// Counts a datagram channel's datagrams into the same counter.
final class DatagramCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let counter: PacketCounter
    let headers: Int
    init(counter: PacketCounter, headers: Int) {
        self.counter = counter
        self.headers = headers
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.packets += 1
        counter.bytes += unwrapInboundIn(data).data.readableBytes + headers
    }
}

/// Work on a thread of its own (the sender blocks in sendto), joined with `value()`.
final class OnThread<T>: @unchecked Sendable {
    private var result: Result<T, any Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> T) {
        Thread {
            self.result = Result { try body() }
            self.done.signal()
        }.start()
    }

    func value() throws -> T {
        done.wait()
        return try result!.get()
    }
}

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
