import DNS
import Foundation
import LinuxNet
import SandboxAPIServer
import Synchronization

/// What the `coredns` pods in kube-system run on the process node, in the pod's own network
/// namespace: DNS on UDP and TCP port 53 of the pod, forwarded to the cluster DNS server the node
/// keeps at the kube-dns address (as CoreDNS's `forward` plugin would forward to another server),
/// `/ready` on 8181 (200 once a cluster name resolved through it, 503 before) and `/health` on
/// 8080, which the Deployment's probes ask. So kube-dns has real, Ready endpoints that answer,
/// and a pod that is not Ready means DNS does not answer. Threads and blocking sockets: a query
/// waits on nothing but the upstream, with a deadline.
public final class CoreDNSStandIn: Sendable {
    let upstream: String
    private let ready = Atomic<Bool>(false)
    private let sockets: [Int32]

    /// Binds 0.0.0.0:53 (UDP, TCP), :8181 and :8080 in the calling thread's namespace and serves.
    public init(upstream: String = ClusterAddresses.clusterDNS, dnsPort: Int = 53, readyPort: Int = 8181, healthPort: Int = 8080) throws {
        self.upstream = upstream
        let udp = try NetworkNamespace.makeBoundSocket(host: "0.0.0.0", port: dnsPort, udp: true)
        let tcp = try NetworkNamespace.makeBoundSocket(host: "0.0.0.0", port: dnsPort, udp: false)
        let readyListener = try NetworkNamespace.makeBoundSocket(host: "0.0.0.0", port: readyPort, udp: false)
        let healthListener = try NetworkNamespace.makeBoundSocket(host: "0.0.0.0", port: healthPort, udp: false)
        sockets = [udp, tcp, readyListener, healthListener]
        for fd in sockets { Self.makeBlocking(fd) }
        Self.thread("dns udp") { [self] in serveUDP(udp) }
        Self.thread("dns tcp") { [self] in accept(tcp) { [self] in relayTCP($0) } }
        Self.thread("ready") { [self] in accept(readyListener) { [self] in answerHTTP($0, ok: ready.load(ordering: .relaxed)) } }
        Self.thread("health") { [self] in accept(healthListener) { [self] in answerHTTP($0, ok: true) } }
        Self.thread("readiness") { [self] in probeUntilReady() }
    }

    /// Whether a cluster name resolved through the upstream (what `/ready` says).
    public var isReady: Bool { ready.load(ordering: .relaxed) }

    // MARK: DNS

    private func serveUDP(_ fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65535)
        while true {
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            if count < 0 { if errno == EINTR { continue } else { return } }
            let query = Array(buffer[0..<count])
            let (client, clientLength) = (peer, length)
            // Each query on its own thread: a slow answer holds up no other.
            Self.thread("dns query") { [self] in
                guard let answer = forward(query) else { return }
                var peer = client
                let length = clientLength
                _ = answer.withUnsafeBytes { bytes in
                    withUnsafePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes.baseAddress, bytes.count, 0, $0, length) }
                    }
                }
            }
        }
    }

    /// One query to the upstream over UDP, its answer within 2 s, or nil.
    func forward(_ query: [UInt8]) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = Self.address(upstream, port: 53)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, send(fd, query, query.count, 0) == query.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65535)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? Array(buffer[0..<count]) : nil
    }

    /// A TCP DNS connection relayed to the upstream's TCP port as it is (length-framed both ways).
    private func relayTCP(_ client: Int32) {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = Self.address(upstream, port: 53)
        let connected = server >= 0 && withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
        guard connected else {
            if server >= 0 { close(server) }
            close(client)
            return
        }
        let done = DispatchSemaphore(value: 0)
        Self.thread("dns tcp up") {
            Self.copy(from: client, to: server)
            done.signal()
        }
        Self.copy(from: server, to: client)
        done.wait()
        close(server)
        close(client)
    }

    private static func copy(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = read(source, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            var sent = 0
            while sent < count {
                let n = buffer[sent..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { shutdown(source, Int32(SHUT_RD)); return }
                sent += n
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    /// Asks the upstream for the `kubernetes` service until it answers, then stays Ready (the
    /// upstream is the node's server, which does not go away while the cluster runs).
    private func probeUntilReady() {
        while !ready.load(ordering: .relaxed) {
            if let name = try? DNSName("kubernetes.default.svc.\(ClusterAddresses.clusterDomain)"),
               let query = try? DNSMessage(header: DNSHeader(id: 0x5eed, recursionDesired: true),
                                           questions: [DNSQuestion(name: name, type: .a)]).serialized(),
               let answer = forward(query),
               let message = try? DNSMessage(bytes: answer), message.header.rcode == 0, !message.answers.isEmpty {
                ready.store(true, ordering: .relaxed)
                return
            }
            usleep(200_000)
        }
    }

    // MARK: HTTP

    private func answerHTTP(_ fd: Int32, ok: Bool) {
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        _ = read(fd, &buffer, buffer.count)  // the request line and headers; the path does not matter
        let body = ok ? "OK" : "not ready"
        let response = "HTTP/1.1 \(ok ? "200 OK" : "503 Service Unavailable")\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = response.withCString { write(fd, $0, strlen($0)) }
    }

    // MARK: Plumbing

    private func accept(_ listener: Int32, _ handle: @escaping @Sendable (Int32) -> Void) {
        while true {
            let fd = Glibc.accept(listener, nil, nil)
            if fd < 0 { if errno == EINTR || errno == ECONNABORTED { continue } else { return } }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            Self.thread("connection") { handle(fd) }
        }
    }

    private static func thread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    private static func makeBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
    }

    private static func address(_ host: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        return address
    }
}
