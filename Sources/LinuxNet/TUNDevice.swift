#if os(Linux)
import Glibc
import NetworkAddress
import Synchronization

/// A Linux TUN interface carrying raw IP packets (IFF_TUN | IFF_NO_PI): every read returns one
/// packet the kernel routed to the interface, every write injects one packet into the kernel.
///
/// Configuration (MTU, address, up, routes) uses ioctls on a socket opened together with the
/// device, so it applies to the network namespace the device was created in whichever thread
/// calls it, and needs no `ip` process. Closing the device removes the interface and, with
/// it, its addresses and routes.
///
/// The descriptor is non-blocking. It is deliberately not handed to NIO's pipe channel: NIO
/// coalesces queued writes into one `writev`, which a TUN device would take as a single
/// (corrupt) packet. The owner drives it from a dedicated thread with ``waitReadable(timeout:)``,
/// which also avoids the event-loop hop per packet.
public final class TUNDevice: Sendable {
    /// The interface name the kernel assigned.
    public let name: String
    /// The non-blocking descriptor; valid until ``close()``.
    public let fileDescriptor: Int32
    private let controlSocket: Int32
    private let isOpen = Atomic<Bool>(true)

    // Linux ioctl numbers; the _IOW macros and if_tun.h are not imported into Swift.
    private static let tunSetInterface: UInt = 0x4004_54ca  // TUNSETIFF
    private static let iffTUN: Int16 = 0x0001
    private static let iffNoPI: Int16 = 0x1000
    private static let addRouteRequest: UInt = 0x890b  // SIOCADDRT
    private static let deleteRouteRequest: UInt = 0x890c  // SIOCDELRT

    /// Creates the interface `name` (e.g. "tel0"; "tel%d" lets the kernel number it) in the
    /// calling thread's network namespace.
    public init(name requested: String) throws(TUNDeviceError) {
        guard requested.utf8.count <= 15, !requested.isEmpty,
              requested.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: "/") })
        else { throw .invalidName(requested) }
        let fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpenControlDevice(errno: errno) }
        var request = ifreq()
        Self.setName(requested, in: &request)
        request.ifr_ifru.ifru_flags = Self.iffTUN | Self.iffNoPI
        guard ioctl(fd, Self.tunSetInterface, &request) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw .cannotCreateInterface(name: requested, errno: e)
        }
        let assigned = withUnsafeBytes(of: request.ifr_ifrn.ifrn_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else {
            let e = errno
            Glibc.close(fd)
            throw .configurationFailed(operation: "open a configuration socket", interface: assigned, errno: e)
        }
        name = assigned
        fileDescriptor = fd
        controlSocket = socketFD
    }

    deinit { close() }

    /// Removes the interface (and its addresses and routes) by closing the descriptor.
    public func close() {
        guard isOpen.exchange(false, ordering: .acquiringAndReleasing) else { return }
        Glibc.close(fileDescriptor)
        Glibc.close(controlSocket)
    }

    // MARK: Configuration

    /// Sets the interface MTU (up to 65535; large MTUs cut the per-packet cost).
    public func setMTU(_ mtu: Int) throws(TUNDeviceError) {
        var request = interfaceRequest()
        request.ifr_ifru.ifru_mtu = Int32(mtu)
        try control(UInt(SIOCSIFMTU), &request, "set the MTU to \(mtu)")
    }

    /// Assigns the interface's IPv4 address and prefix (e.g. 10.128.0.1/24).
    public func setAddress(_ address: IPv4Address, prefixLength: Int) throws(TUNDeviceError) {
        var request = interfaceRequest()
        Self.setSocketAddress(address, in: &request)
        try control(UInt(SIOCSIFADDR), &request, "set the address \(address)")
        var mask = interfaceRequest()
        Self.setSocketAddress(Self.netmask(prefixLength), in: &mask)
        try control(UInt(SIOCSIFNETMASK), &mask, "set the prefix /\(prefixLength)")
    }

    /// Brings the interface up.
    public func bringUp() throws(TUNDeviceError) {
        var request = interfaceRequest()
        try control(UInt(SIOCGIFFLAGS), &request, "read the interface flags")
        request.ifr_ifru.ifru_flags |= Int16(IFF_UP) | Int16(IFF_RUNNING)
        try control(UInt(SIOCSIFFLAGS), &request, "bring the interface up")
    }

    /// Routes `subnet`/`prefixLength` to this interface.
    public func addRoute(_ subnet: IPv4Address, prefixLength: Int) throws(TUNDeviceError) {
        try route(Self.addRouteRequest, subnet, prefixLength, "add the route \(subnet)/\(prefixLength)")
    }

    /// Removes a route added with ``addRoute(_:prefixLength:)``.
    public func removeRoute(_ subnet: IPv4Address, prefixLength: Int) throws(TUNDeviceError) {
        try route(Self.deleteRouteRequest, subnet, prefixLength, "remove the route \(subnet)/\(prefixLength)")
    }

    // MARK: Packets

    /// Reads one packet into `buffer`; nil when none is waiting.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TUNDeviceError) -> Int? {
        while true {
            let n = Glibc.read(fileDescriptor, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return nil }
            throw .ioFailed(operation: "read a packet", interface: name, errno: e)
        }
    }

    /// Writes one packet. Returns false when the device queue is full (the packet is dropped,
    /// as a router would; TCP retransmits).
    @discardableResult
    public func write(_ packet: UnsafeRawBufferPointer) throws(TUNDeviceError) -> Bool {
        while true {
            let n = Glibc.write(fileDescriptor, packet.baseAddress, packet.count)
            if n >= 0 { return true }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS { return false }
            throw .ioFailed(operation: "write a packet", interface: name, errno: e)
        }
    }

    /// Blocks until a packet is waiting or `timeout` nanoseconds pass (nil: no limit). An
    /// extra descriptor (e.g. an eventfd) can wake the wait; returns which became readable.
    public func waitReadable(timeout: UInt64?, alsoWatching wake: Int32? = nil) -> (device: Bool, wake: Bool) {
        let ms: Int32 = timeout.map { Int32(min(($0 + 999_999) / 1_000_000, 60_000)) } ?? -1
        return withUnsafeTemporaryAllocation(of: pollfd.self, capacity: 2) { fds in
            fds[0] = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            fds[1] = pollfd(fd: wake ?? -1, events: Int16(POLLIN), revents: 0)  // -1 is ignored by poll
            guard poll(fds.baseAddress, 2, ms) > 0 else { return (false, false) }
            return (fds[0].revents & Int16(POLLIN) != 0, fds[1].revents & Int16(POLLIN) != 0)
        }
    }

    // MARK: ioctl plumbing

    private func interfaceRequest() -> ifreq {
        var request = ifreq()
        Self.setName(name, in: &request)
        return request
    }

    private func control(_ request: UInt, _ value: inout ifreq, _ operation: String) throws(TUNDeviceError) {
        guard ioctl(controlSocket, request, &value) == 0 else {
            throw .configurationFailed(operation: operation, interface: name, errno: errno)
        }
    }

    /// Builds a `struct rtentry` by hand (not imported into Swift; layout of 64-bit Linux).
    private func route(_ request: UInt, _ subnet: IPv4Address, _ prefixLength: Int, _ operation: String) throws(TUNDeviceError) {
        let rtf_up: UInt16 = 0x0001
        var entry = [UInt8](repeating: 0, count: 120)
        var device = Array(name.utf8CString)
        let result = entry.withUnsafeMutableBytes { raw -> Int32 in
            Self.writeSocketAddress(IPv4Address(subnet.value & Self.netmask(prefixLength).value), into: raw, at: 8)
            Self.writeSocketAddress(IPv4Address(0), into: raw, at: 24)
            Self.writeSocketAddress(Self.netmask(prefixLength), into: raw, at: 40)
            raw.storeBytes(of: rtf_up, toByteOffset: 56, as: UInt16.self)
            return device.withUnsafeMutableBufferPointer { dev in
                raw.storeBytes(of: dev.baseAddress, toByteOffset: 88, as: UnsafeMutablePointer<CChar>?.self)
                return ioctl(controlSocket, request, raw.baseAddress!)
            }
        }
        guard result == 0 else {
            throw .configurationFailed(operation: operation, interface: name, errno: errno)
        }
    }

    private static func netmask(_ prefixLength: Int) -> IPv4Address {
        IPv4Address(prefixLength <= 0 ? 0 : UInt32.max << UInt32(32 - min(prefixLength, 32)))
    }

    private static func setName(_ name: String, in request: inout ifreq) {
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { raw in
            for (i, byte) in name.utf8.prefix(15).enumerated() { raw[i] = byte }
        }
    }

    private static func setSocketAddress(_ address: IPv4Address, in request: inout ifreq) {
        withUnsafeMutableBytes(of: &request.ifr_ifru) { raw in writeSocketAddress(address, into: raw, at: 0) }
    }

    private static func writeSocketAddress(_ address: IPv4Address, into raw: UnsafeMutableRawBufferPointer, at offset: Int) {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = address.value.bigEndian
        withUnsafeBytes(of: &sin) { raw.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: 16) }
    }
}
#endif
