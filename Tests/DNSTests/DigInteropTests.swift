import DNS
import DNSServer
import Foundation
import TestSupport
import Testing

/// The server checked with a client no one here wrote: `dig` (Debian package bind9-dnsutils,
/// which ./scripts/test installs; without it the test is skipped, and fails under CI=true).
@Suite("DNS server with dig", .enabled(where: .dig))
struct DigInteropTests {
    /// Runs dig and returns its standard output; fails after 15 s rather than hang.
    static func dig(_ arguments: [String]) async throws -> String {
        let result = try await ProcessRunner.run(["dig"] + arguments, timeout: .seconds(15))
        try #require(!result.timedOut, "dig \(arguments.joined(separator: " ")) did not finish: \(result.combined)")
        return result.stdout
    }

    @Test("dig resolves bare, svc.ns and fqdn names over UDP and TCP, SRV and PTR, and names forwarded upstream")
    func digQueries() async throws {
        try HostRequirement.dig.require()
        let lookup = InMemoryClusterLookup(records: DNSServerTests.clusterRecords() + [
            ResourceRecord(name: try DNSName("_http._tcp.web.shop.svc.cluster.local"), ttl: 30,
                           data: .srv(priority: 0, weight: 100, port: 8080, target: DNSServerTests.web)),
            ResourceRecord(name: try DNSName("20.0.96.10.in-addr.arpa"), ttl: 30, data: .ptr(DNSServerTests.web)),
        ])
        let upstream = try await FakeUpstream.start(answer: DNSServerTests.upstreamAddress)
        do {
            try await DNSServerTests.withServer(upstreams: [upstream.address], lookup: lookup) { server in
                let base = ["@127.0.0.1", "-p", "\(server.udpAddress.port ?? 0)", "+tries=1", "+time=3"]
                #expect(try await Self.dig(base + ["+short", "web"]) == "10.96.0.20\n")
                #expect(try await Self.dig(base + ["+short", "+tcp", "web.shop"]) == "10.96.0.20\n")
                #expect(try await Self.dig(base + ["+short", "web.shop.svc.cluster.local"]) == "10.96.0.20\n")
                #expect(try await Self.dig(base + ["+short", "SRV", "_http._tcp.web"]) == "0 100 8080 web.shop.svc.cluster.local.\n")
                #expect(try await Self.dig(base + ["+short", "-x", "10.96.0.20"]) == "web.shop.svc.cluster.local.\n")
                #expect(try await Self.dig(base + ["+short", "example.org"]) == "93.184.216.34\n")
                let full = try await Self.dig(base + ["nope.shop.svc.cluster.local"])
                #expect(full.contains("status: NXDOMAIN"))
                #expect(full.contains("EDNS: version: 0"))
                // dig retries a truncated UDP answer over TCP by itself and gets all 120 records.
                let big = try await Self.dig(base + ["+short", "+bufsize=512", "big"])
                #expect(big.split(separator: "\n").count == 120)
            }
        } catch {
            await upstream.stop()
            throw error
        }
        await upstream.stop()
    }
}
