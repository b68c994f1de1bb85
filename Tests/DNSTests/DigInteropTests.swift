import DNS
import DNSServer
import Foundation
import Testing

/// The server checked with a client no one here wrote: `dig` (Debian package bind9-dnsutils).
@Suite("DNS server with dig")
struct DigInteropTests {
    /// The dig executable, or nil. Missing dig fails the test under CI (CI=true), where
    /// ./scripts/test installs it; elsewhere the test says so and passes.
    static func digPath() -> String? {
        let candidates = ["/usr/bin/dig", "/usr/local/bin/dig", "/bin/dig"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func requireDig() -> String? {
        if let path = digPath() { return path }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("dig is missing; install the Debian package bind9-dnsutils (./scripts/test does)")
        } else {
            print("dig is missing; install bind9-dnsutils to run the dig interop tests")
        }
        return nil
    }

    /// Runs dig and returns its standard output; fails after 15 s rather than hang.
    static func dig(_ path: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("dig resolves bare, svc.ns and fqdn names over UDP and TCP, SRV and PTR, and names forwarded upstream")
    func digQueries() async throws {
        guard let dig = Self.requireDig() else { return }
        let lookup = InMemoryClusterLookup(records: DNSServerTests.clusterRecords() + [
            ResourceRecord(name: try DNSName("_http._tcp.web.shop.svc.cluster.local"), ttl: 30,
                           data: .srv(priority: 0, weight: 100, port: 8080, target: DNSServerTests.web)),
            ResourceRecord(name: try DNSName("20.0.96.10.in-addr.arpa"), ttl: 30, data: .ptr(DNSServerTests.web)),
        ])
        let upstream = try await FakeUpstream.start(answer: DNSServerTests.upstreamAddress)
        do {
            try await DNSServerTests.withServer(upstreams: [upstream.address], lookup: lookup) { server in
                let base = ["@127.0.0.1", "-p", "\(server.udpAddress.port ?? 0)", "+tries=1", "+time=3"]
                #expect(try await Self.dig(dig, base + ["+short", "web"]) == "10.96.0.20\n")
                #expect(try await Self.dig(dig, base + ["+short", "+tcp", "web.shop"]) == "10.96.0.20\n")
                #expect(try await Self.dig(dig, base + ["+short", "web.shop.svc.cluster.local"]) == "10.96.0.20\n")
                #expect(try await Self.dig(dig, base + ["+short", "SRV", "_http._tcp.web"]) == "0 100 8080 web.shop.svc.cluster.local.\n")
                #expect(try await Self.dig(dig, base + ["+short", "-x", "10.96.0.20"]) == "web.shop.svc.cluster.local.\n")
                #expect(try await Self.dig(dig, base + ["+short", "example.org"]) == "93.184.216.34\n")
                let full = try await Self.dig(dig, base + ["nope.shop.svc.cluster.local"])
                #expect(full.contains("status: NXDOMAIN"))
                #expect(full.contains("EDNS: version: 0"))
                // dig retries a truncated UDP answer over TCP by itself and gets all 120 records.
                let big = try await Self.dig(dig, base + ["+short", "+bufsize=512", "big"])
                #expect(big.split(separator: "\n").count == 120)
            }
        } catch {
            await upstream.stop()
            throw error
        }
        await upstream.stop()
    }
}
