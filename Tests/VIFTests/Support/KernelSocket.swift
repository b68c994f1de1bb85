import Glibc
import NetStack
import NetworkAddress

struct SocketError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}

/// A kernel TCP or UDP socket made inside the test's namespace: the peer of the stack under test.
/// Blocking, with send/receive timeouts so a broken stack fails a test instead of hanging it.
struct KernelSocket: Sendable {
    let fd: Int32

    /// Connects a TCP socket from inside `namespace` to `address:port` (routed to the TUN).
    static func connect(
        in namespace: NetworkNamespace, to address: IPv4Address, port: UInt16,
        receiveBuffer: Int? = nil, timeoutSeconds: Int = 20
    ) throws -> KernelSocket {
        try namespace.run {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
            let s = KernelSocket(fd: fd)
            if let receiveBuffer { s.setOption(SOL_SOCKET, SO_RCVBUF, Int32(receiveBuffer)) }
            s.setTimeouts(seconds: timeoutSeconds)
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr.s_addr = address.value.bigEndian
            let r = withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard r == 0 else {
                let e = errno
                Glibc.close(fd)
                throw SocketError(operation: "connect", code: e)
            }
            return s
        }
    }

    /// Connects a TCP socket over IPv6 from inside `namespace` to `[address]:port`.
    static func connect(in namespace: NetworkNamespace, to address: IPv6Address, port: UInt16) throws -> KernelSocket {
        try namespace.run {
            let fd = socket(AF_INET6, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
            let s = KernelSocket(fd: fd)
            s.setTimeouts(seconds: 20)
            var sin6 = socketAddress(address, port: port)
            let r = withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
            guard r == 0 else {
                let e = errno
                Glibc.close(fd)
                throw SocketError(operation: "connect", code: e)
            }
            return s
        }
    }

    static func socketAddress(_ address: IPv6Address, port: UInt16) -> sockaddr_in6 {
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = port.bigEndian
        withUnsafeMutableBytes(of: &sin6.sin6_addr) { raw in
            raw.storeBytes(of: address.high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: address.low.bigEndian, toByteOffset: 8, as: UInt64.self)
        }
        return sin6
    }

    /// A UDP socket over IPv6 from inside `namespace`.
    static func udp6(in namespace: NetworkNamespace) throws -> KernelSocket {
        try namespace.run {
            let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
            let s = KernelSocket(fd: fd)
            s.setTimeouts(seconds: 5)
            return s
        }
    }

    func sendDatagram(_ bytes: [UInt8], to address: IPv6Address, port: UInt16) throws {
        var sin6 = Self.socketAddress(address, port: port)
        let n = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &sin6) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard n == bytes.count else { throw SocketError(operation: "sendto", code: errno) }
    }

    /// A UDP socket from inside `namespace`.
    static func udp(in namespace: NetworkNamespace) throws -> KernelSocket {
        try namespace.run {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
            let s = KernelSocket(fd: fd)
            s.setTimeouts(seconds: 5)
            return s
        }
    }

    /// A raw ICMP socket from inside `namespace` (we are root; no ping binary needed).
    static func rawICMP(in namespace: NetworkNamespace) throws -> KernelSocket {
        try namespace.run {
            let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_ICMP))
            guard fd >= 0 else { throw SocketError(operation: "socket", code: errno) }
            let s = KernelSocket(fd: fd)
            s.setTimeouts(seconds: 5)
            return s
        }
    }

    func setOption(_ level: Int32, _ name: Int32, _ value: Int32) {
        var v = value
        setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    }

    func setTimeouts(seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            if n < 0 {
                if errno == EINTR { continue }
                throw SocketError(operation: "send", code: errno)
            }
            done += n
        }
    }

    func send(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try send($0) } }

    /// Sends `total` bytes of ``Pattern``.
    func sendPattern(total: Int) throws {
        var offset = 0
        while offset < total {
            try Pattern.withBytes(at: offset, maximum: min(total - offset, 256 << 10)) { chunk in
                try send(chunk)
                offset += chunk.count
            }
        }
    }

    /// Reads up to `maximum` bytes; empty at end of stream.
    func receive(maximum: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, maximum, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SocketError(operation: "recv", code: errno)
            }
            return Array(buffer[0..<n])
        }
    }

    /// Reads until end of stream, verifying ``Pattern``; returns (bytes, all matched).
    func receivePattern() throws -> (count: Int, intact: Bool) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        var intact = true
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SocketError(operation: "recv", code: errno)
            }
            if n == 0 { return (total, intact) }
            if intact {
                intact = buffer.withUnsafeBytes { Pattern.matches(UnsafeRawBufferPointer(rebasing: $0[0..<n]), at: total) }
            }
            total += n
        }
    }

    /// Reads exactly `count` bytes (fewer only at end of stream).
    func receiveExactly(_ count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        while result.count < count {
            let chunk = try receive(maximum: count - result.count)
            if chunk.isEmpty { break }
            result += chunk
        }
        return result
    }

    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    func close() { Glibc.close(fd) }

    /// Closes with SO_LINGER 0, which makes the kernel send RST.
    func resetAndClose() {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        Glibc.close(fd)
    }

    /// The local port (to find this connection's FlowID in the stack); either family.
    var localPort: UInt16 {
        var sin6 = sockaddr_in6()  // large enough for both; the port sits at the same offset
        var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
        _ = withUnsafeMutablePointer(to: &sin6) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return UInt16(bigEndian: sin6.sin6_port)
    }

    /// Bytes queued in the kernel's send buffer not yet acknowledged or sent (SIOCOUTQ).
    var unsentBytes: Int {
        var value: Int32 = 0
        _ = ioctl(fd, 0x5411 /* SIOCOUTQ = TIOCOUTQ */, &value)
        return Int(value)
    }

    func sendDatagram(_ bytes: [UInt8], to address: IPv4Address, port: UInt16) throws {
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = port.bigEndian
        sin.sin_addr.s_addr = address.value.bigEndian
        let n = bytes.withUnsafeBytes { b in
            withUnsafePointer(to: &sin) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard n == bytes.count else { throw SocketError(operation: "sendto", code: errno) }
    }
}
