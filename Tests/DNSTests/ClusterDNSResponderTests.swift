import DNS
import NetworkAddress
import Testing

@Suite("Cluster DNS responder")
struct ClusterDNSResponderTests {
    static let web = try! DNSName("web.shop.svc.cluster.local")

    static func makeResponder(records: [ResourceRecord] = [
        ResourceRecord(name: web, ttl: 30, data: .a(IPv4Address(10, 96, 0, 20))),
        ResourceRecord(name: try! DNSName("_http._tcp.web.shop.svc.cluster.local"), ttl: 30,
                       data: .srv(priority: 0, weight: 100, port: 80, target: web)),
        ResourceRecord(name: try! DNSName("20.0.96.10.in-addr.arpa"), ttl: 30, data: .ptr(web)),
    ]) -> (ClusterDNSResponder, InMemoryClusterLookup) {
        let lookup = InMemoryClusterLookup(records: records)
        let cache = ClusterAnswerCache(lookup: lookup, clock: ManualClock())
        let config = ClusterDNSConfig(
            connectedNamespace: "shop", namespaces: ["shop", "billing"],
            workstationSearchDomains: [try! DNSName("corp.example")],
            serviceSubnets: [IPSubnet("10.96.0.0/16")!]
        )
        return (ClusterDNSResponder(config: config, cache: cache), lookup)
    }

    static func query(_ name: String, _ type: DNSRecordType, id: UInt16 = 0x4242, edns: Bool = true) -> DNSMessage {
        DNSMessage(
            header: DNSHeader(id: id), questions: [DNSQuestion(name: try! DNSName(name), type: type)],
            additionals: edns ? [EDNS(udpPayloadSize: 4096).record] : []
        )
    }

    @Test("a bare name is answered under the name the client asked, with the served TTL and OPT echoed")
    func bareName() async throws {
        let (responder, _) = Self.makeResponder()
        guard case .answer(let response) = await responder.respond(to: Self.query("WEB", .a)) else {
            Issue.record("a bare service name should be answered here")
            return
        }
        #expect(response.header.id == 0x4242)
        #expect(response.header.isResponse)
        #expect(response.header.rcode == DNSResponseCode.noError.rawValue)
        #expect(response.questions[0].name.isIdentical(to: try DNSName("WEB")))
        #expect(response.answers.count == 1)
        #expect(response.answers[0].name.isIdentical(to: try DNSName("WEB")))
        #expect(response.answers[0].ttl == 4)
        #expect(response.answers[0].data == .a(IPv4Address(10, 96, 0, 20)))
        #expect(response.edns?.udpPayloadSize == 1232)
    }

    @Test("SRV and PTR come from the cluster")
    func srvAndPTR() async throws {
        let (responder, _) = Self.makeResponder()
        guard case .answer(let srv) = await responder.respond(to: Self.query("_http._tcp.web", .srv)) else {
            Issue.record("SRV should be answered")
            return
        }
        #expect(srv.answers.map(\.data) == [.srv(priority: 0, weight: 100, port: 80, target: Self.web)])
        guard case .answer(let ptr) = await responder.respond(to: Self.query("20.0.96.10.in-addr.arpa", .ptr)) else {
            Issue.record("PTR should be answered")
            return
        }
        #expect(ptr.answers.map(\.data) == [.ptr(Self.web)])
    }

    @Test("an unknown cluster name is NXDOMAIN with an SOA whose minimum is the served TTL")
    func nameError() async throws {
        let (responder, _) = Self.makeResponder()
        guard case .answer(let response) = await responder.respond(to: Self.query("nope.shop.svc.cluster.local", .a)) else {
            Issue.record("a cluster fqdn should be answered here")
            return
        }
        #expect(response.header.rcode == DNSResponseCode.nameError.rawValue)
        guard case .soa(let soa) = response.authorities.first?.data else {
            Issue.record("negative answers carry an SOA")
            return
        }
        #expect(soa.minimum == 4)
        #expect(response.authorities[0].name == (try DNSName("cluster.local")))
    }

    @Test("a name that exists without records of the asked type is NODATA")
    func noData() async throws {
        let (responder, _) = Self.makeResponder()
        guard case .answer(let response) = await responder.respond(to: Self.query("web", .aaaa)) else {
            Issue.record("should be answered")
            return
        }
        #expect(response.header.rcode == DNSResponseCode.noError.rawValue)
        #expect(response.answers.isEmpty)
        #expect(response.authorities.count == 1)
    }

    @Test("svc.ns that the cluster does not know goes upstream; non-cluster names go upstream untouched")
    func fallbackAndUpstream() async throws {
        let (responder, lookup) = Self.makeResponder()
        #expect(await responder.respond(to: Self.query("nope.billing", .a)) == .forwardUpstream)
        // The same cluster name: its negative answer is already cached.
        #expect(await responder.respond(to: Self.query("nope.billing.corp.example", .a)) == .forwardUpstream)
        #expect(await lookup.lookupCount == 1)
        #expect(await responder.respond(to: Self.query("example.org", .a)) == .forwardUpstream)
        #expect(await lookup.lookupCount == 1)
    }

    @Test("a name the OS suffixed with the workstation's search domain resolves to the service")
    func searchDomainSuffix() async throws {
        let (responder, _) = Self.makeResponder()
        guard case .answer(let response) = await responder.respond(to: Self.query("web.shop.corp.example", .a)) else {
            Issue.record("should be answered")
            return
        }
        #expect(response.answers.first?.name == (try DNSName("web.shop.corp.example")))
    }

    @Test("updating the configuration changes routing and drops cached answers")
    func update() async throws {
        let (responder, lookup) = Self.makeResponder()
        _ = await responder.respond(to: Self.query("web", .a))
        var config = await responder.config
        config.namespaces.insert("payments")
        await responder.update(config: config)
        #expect(await responder.cache.count == 0)
        await lookup.add([ResourceRecord(name: try DNSName("pay.payments.svc.cluster.local"), ttl: 5, data: .a(IPv4Address(10, 96, 1, 1)))])
        guard case .answer(let response) = await responder.respond(to: Self.query("pay.payments", .a)) else {
            Issue.record("a newly mapped namespace should resolve")
            return
        }
        #expect(response.answers.count == 1)
    }

    @Test("queries with no or several questions get FORMERR; other opcodes NOTIMP")
    func badQueries() async throws {
        let (responder, _) = Self.makeResponder()
        let empty = DNSMessage(header: DNSHeader(id: 1))
        guard case .answer(let formerr) = await responder.respond(to: empty) else {
            Issue.record("should be answered")
            return
        }
        #expect(formerr.header.rcode == DNSResponseCode.formatError.rawValue)
        var notify = Self.query("web", .a)
        notify.header.opcode = 4
        guard case .answer(let notimp) = await responder.respond(to: notify) else {
            Issue.record("should be answered")
            return
        }
        #expect(notimp.header.rcode == DNSResponseCode.notImplemented.rawValue)
    }

    @Test("lookup latency through the responder, cached and uncached (a figure, not an assertion)")
    func latencyFigure() async throws {
        let records = (0..<1000).map {
            ResourceRecord(name: try! DNSName("s\($0).shop.svc.cluster.local"), ttl: 30, data: .a(IPv4Address(10, 96, 3, UInt8($0 % 250))))
        }
        let (responder, _) = Self.makeResponder(records: records)
        let clock = ContinuousClock()
        var uncached: [Duration] = []
        var cached: [Duration] = []
        for index in 0..<1000 {
            let query = Self.query("s\(index)", .a)
            uncached.append(await clock.measure { _ = await responder.respond(to: query) })
            cached.append(await clock.measure { _ = await responder.respond(to: query) })
        }
        func p50(_ values: [Duration]) -> Duration { values.sorted()[values.count / 2] }
        print("DNS responder latency p50: uncached (in-memory cluster) \(p50(uncached)), cached \(p50(cached))")
        #expect(uncached.count == 1000)
    }
}
