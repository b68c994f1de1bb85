import Foundation
import NetworkAddress
import Synchronization
import LinuxNet
import SandboxAPIServer

/// The workstation link with a delay: a TUN device in each namespace (node side `wslink`
/// 192.0.2.1/24, workstation side `eth0` 192.0.2.2/24) and a forwarder thread per direction
/// that holds every packet for `delay` before writing it to the other device. This kernel has
/// no netem qdisc, so the delay is done here. A 64 KiB MTU keeps the per-packet cost (two
/// syscalls) small enough for well over 100 MB/s.
final class DelayedLink: Sendable {
    static let mtu = 65535
    private let nodeDevice: TUNDevice
    private let workstationDevice: TUNDevice
    private let forwarders: [PacketDelayer]

    init(names: ClusterNames, delay: Duration) throws {
        func make(_ namespace: String, _ name: String, _ address: String) throws -> TUNDevice {
            try ClusterNamespace.runBlocking(in: namespace) {
                let device = try TUNDevice(name: name)
                try device.setMTU(Self.mtu)
                try device.setAddress(IPv4Address(address)!, prefixLength: 24)
                try device.bringUp()
                return device
            }
        }
        nodeDevice = try make(names.nodeNamespace, ClusterTopology.workstationLink, ClusterAddresses.apiServer)
        workstationDevice = try make(names.workstationNamespace, ClusterTopology.workstationInterface, ClusterAddresses.workstation)
        let nanoseconds = UInt64(delay.components.seconds) * 1_000_000_000 + UInt64(delay.components.attoseconds / 1_000_000_000)
        forwarders = [
            try PacketDelayer(from: nodeDevice, to: workstationDevice, delay: nanoseconds, name: "link node->ws"),
            try PacketDelayer(from: workstationDevice, to: nodeDevice, delay: nanoseconds, name: "link ws->node"),
        ]
    }

    /// Stops both forwarders and closes the devices (which removes the interfaces).
    func stop() {
        forwarders.forEach { $0.stop() }
        nodeDevice.close()
        workstationDevice.close()
    }
}

/// One direction of the delayed link, on its own thread: reads packets as they come, stamps
/// each with the time it is due, writes it out then. Packets keep their order (one FIFO, one
/// delay).
final class PacketDelayer: Sendable {
    private let wakePipe: (read: Int32, write: Int32)
    private let stopped = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)

    init(from source: TUNDevice, to destination: TUNDevice, delay: UInt64, name: String) throws {
        wakePipe = try LinuxCalls.pipe()
        let thread = Thread { [self] in
            forward(from: source, to: destination, delay: delay)
            exited.signal()
        }
        thread.name = name
        thread.start()
    }

    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
        exited.wait()
        close(wakePipe.read)
        close(wakePipe.write)
    }

    private func forward(from source: TUNDevice, to destination: TUNDevice, delay: UInt64) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: DelayedLink.mtu + 64, alignment: 16)
        defer { buffer.deallocate() }
        var queue: [(due: UInt64, packet: [UInt8])] = []
        var head = 0
        while !stopped.load(ordering: .acquiring) {
            var now = monotonicNanoseconds()
            while head < queue.count, queue[head].due <= now {
                queue[head].packet.withUnsafeBytes { _ = try? destination.write($0) }
                queue[head].packet = []
                head += 1
            }
            if head > 1024, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            let timeout: UInt64? = head < queue.count ? queue[head].due - now : nil
            guard waitReadable(source.fileDescriptor, timeout: timeout) else { continue }
            // Drain what is waiting, bounded so due packets are not held back by a flood.
            now = monotonicNanoseconds()
            for _ in 0..<64 {
                guard let count = try? source.read(into: buffer), count > 0 else { break }
                let packet = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                if delay == 0 {
                    _ = try? destination.write(packet)
                } else {
                    queue.append((now + delay, Array(packet)))
                }
            }
        }
    }

    /// Waits until `fd` is readable, the wake pipe fires, or `timeout` nanoseconds pass. True
    /// when `fd` is readable. poll counts whole milliseconds, so the last fraction of a
    /// millisecond is slept precisely instead (a 1 ms delay stays 1 ms, not 2).
    private func waitReadable(_ fd: Int32, timeout: UInt64?) -> Bool {
        if let timeout, timeout < 1_000_000 {
            var pause = timespec(tv_sec: 0, tv_nsec: Int(timeout))
            nanosleep(&pause, nil)
            return false
        }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        let ms = timeout.map { Int32(min($0 / 1_000_000, 60_000)) } ?? -1
        let ready = poll(&fds, 2, ms)
        return ready > 0 && fds[0].revents & Int16(POLLIN) != 0
    }
}

func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
