import DNS
import Foundation
import SandboxAPIServer
import Synchronization

/// A DNS server on UDP and TCP port 53 of one address in a network namespace, on dedicated
/// threads with blocking sockets (answers come straight from the in-memory store, so a query
/// never waits on anything: a thread per socket is the simplest server that cannot stall).
final class DNSListener: Sendable {
    let host: String
    let port: Int
    private let udp: Int32
    private let tcp: Int32
    private let wakePipe: (read: Int32, write: Int32)
    private let stopped = Atomic<Bool>(false)
    private let exited = DispatchSemaphore(value: 0)
    private let answer: @Sendable (DNSMessage) -> DNSMessage

    /// Binds `host:port` (UDP and TCP) in `namespace` and starts serving with `answer`.
    init(namespace: String, host: String, port: Int = 53, answer: @escaping @Sendable (DNSMessage) -> DNSMessage) throws {
        self.host = host
        self.answer = answer
        let (udp, tcp) = try ClusterNamespace.runBlocking(in: namespace) {
            let udp = try ClusterNamespace.makeBoundSocket(host: host, port: port, udp: true)
            var bound = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &bound) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) }
            }
            do {
                return (udp, try ClusterNamespace.makeBoundSocket(host: host, port: Int(UInt16(bigEndian: bound.sin_port)), udp: false))
            } catch {
                close(udp)
                throw error
            }
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(udp, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: bound.sin_port))
        self.udp = udp
        self.tcp = tcp
        do {
            wakePipe = try LinuxCalls.pipe()
        } catch {
            close(udp)
            close(tcp)
            throw error
        }
        for (name, body) in [("dns udp \(host)", serveUDP), ("dns tcp \(host)", serveTCP)] as [(String, @Sendable () -> Void)] {
            let thread = Thread { [self] in
                body()
                exited.signal()
            }
            thread.name = name
            thread.start()
        }
    }

    deinit {
        close(wakePipe.read)
        close(wakePipe.write)
    }

    /// Stops both threads (connections end at their next read) and closes the sockets.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
        exited.wait()
        exited.wait()
        close(udp)
        close(tcp)
    }

    /// True when `fd` is readable, false when stopped (or after `timeoutMs`).
    private func waitReadable(_ fd: Int32, timeoutMs: Int32 = -1) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, timeoutMs)
            if ready < 0, errno == EINTR { continue }
            return ready > 0 && fds[1].revents == 0 && fds[0].revents != 0
        }
    }

    private func serveUDP() {
        var buffer = [UInt8](repeating: 0, count: 65535)
        while waitReadable(udp) {
            var from = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &from) { address in
                address.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, &buffer, buffer.count, Int32(MSG_DONTWAIT), $0, &length) }
            }
            guard n > 0, let reply = reply(to: Array(buffer[0..<n]), overUDP: true) else { continue }
            _ = withUnsafePointer(to: &from) { address in
                address.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, reply, reply.count, Int32(MSG_DONTWAIT), $0, length) }
            }
        }
    }

    private func serveTCP() {
        while waitReadable(tcp) {
            let connection = accept(tcp, nil, nil)
            guard connection >= 0 else { continue }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let thread = Thread { [self] in
                serveConnection(connection)
                close(connection)
            }
            thread.name = "dns tcp connection"
            thread.start()
        }
    }

    /// Length-prefixed queries (RFC 1035 §4.2.2) until the client closes, idles 10 s, or we stop.
    private func serveConnection(_ fd: Int32) {
        func readExactly(_ count: Int) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                guard waitReadable(fd, timeoutMs: 10_000) else { return nil }
                let n = bytes[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n < 0, errno == EAGAIN || errno == EINTR { continue }
                guard n > 0 else { return nil }
                got += n
            }
            return bytes
        }
        while let prefix = readExactly(2), let query = readExactly(Int(prefix[0]) << 8 | Int(prefix[1])) {
            guard let reply = reply(to: query, overUDP: false) else { continue }
            let framed = [UInt8(reply.count >> 8), UInt8(reply.count & 0xff)] + reply
            guard send(fd, framed, framed.count, Int32(MSG_NOSIGNAL)) == framed.count else { return }
        }
    }

    /// The wire reply to one query, nil for responses and bytes without a header.
    private func reply(to raw: [UInt8], overUDP: Bool) -> [UInt8]? {
        guard let query = try? DNSMessage(bytes: raw) else {
            // FORMERR with the query's ID, so the client stops waiting.
            guard raw.count >= 12, raw[2] & 0x80 == 0 else { return nil }
            return [raw[0], raw[1], 0x80 | (raw[2] & 0x79), 0x80 | DNSResponseCode.formatError.rawValue] + [UInt8](repeating: 0, count: 8)
        }
        guard !query.header.isResponse else { return nil }
        let response = answer(query)
        return try? response.serialized(maxSize: overUDP ? query.maxUDPResponseSize : 65535)
    }
}
