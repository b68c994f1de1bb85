import DNS
import NetworkAddress
import Testing

@Suite("Cluster name routing")
struct ClusterDNSResolverTests {
    static let config = ClusterDNSConfig(
        connectedNamespace: "shop",
        namespaces: ["shop", "billing"],
        workstationSearchDomains: [try! DNSName("corp.example")],
        serviceSubnets: [IPSubnet("10.96.0.0/16")!, IPSubnet("fd00:10:96::/112")!],
        podSubnets: [IPSubnet("10.244.0.0/16")!],
        includeSuffixes: [try! DNSName("internal.test")],
        excludeSuffixes: [try! DNSName("com")]
    )

    /// What a query name turns into: the cluster name looked up and whether a miss goes upstream,
    /// or one of the other routes.
    enum Expected: Sendable, CustomStringConvertible {
        case cluster(String, namespace: String?, fallback: Bool)
        case upstream
        case nameError
        case local

        var description: String {
            switch self {
            case .cluster(let name, let namespace, let fallback): return "cluster(\(name), ns: \(namespace ?? "-"), fallback: \(fallback))"
            case .upstream: return "upstream"
            case .nameError: return "nameError"
            case .local: return "local"
            }
        }
    }

    static let table: [(String, DNSRecordType, Expected)] = [
        // bare names resolve in the connected namespace, with or without the synthetic search domain
        ("web", .a, .cluster("web.shop.svc.cluster.local", namespace: "shop", fallback: true)),
        ("web.tel2-search", .a, .cluster("web.shop.svc.cluster.local", namespace: "shop", fallback: false)),
        ("Web.TEL2-Search.", .aaaa, .cluster("Web.shop.svc.cluster.local", namespace: "shop", fallback: false)),
        // svc.ns in a mapped namespace
        ("web.billing", .a, .cluster("web.billing.svc.cluster.local", namespace: "billing", fallback: true)),
        ("web.shop", .a, .cluster("web.shop.svc.cluster.local", namespace: "shop", fallback: true)),
        // svc.ns.svc and the fqdn, in any namespace: the name itself says cluster
        ("web.billing.svc", .a, .cluster("web.billing.svc.cluster.local", namespace: "billing", fallback: false)),
        ("web.billing.svc.cluster.local", .a, .cluster("web.billing.svc.cluster.local", namespace: "billing", fallback: false)),
        ("web.other.svc.cluster.local", .a, .cluster("web.other.svc.cluster.local", namespace: "other", fallback: false)),
        // pods
        ("10-244-1-7.billing.pod", .a, .cluster("10-244-1-7.billing.pod.cluster.local", namespace: "billing", fallback: false)),
        ("10-244-1-7.billing.pod.cluster.local", .a, .cluster("10-244-1-7.billing.pod.cluster.local", namespace: "billing", fallback: false)),
        // SRV
        ("_http._tcp.web.billing.svc.cluster.local", .srv, .cluster("_http._tcp.web.billing.svc.cluster.local", namespace: "billing", fallback: false)),
        ("_http._tcp.web.billing", .srv, .cluster("_http._tcp.web.billing.svc.cluster.local", namespace: "billing", fallback: true)),
        ("_http._tcp.web", .srv, .cluster("_http._tcp.web.shop.svc.cluster.local", namespace: "shop", fallback: true)),
        // PTR for service and pod addresses, v4 and v6; not for others
        ("20.0.96.10.in-addr.arpa", .ptr, .cluster("20.0.96.10.in-addr.arpa", namespace: nil, fallback: false)),
        ("7.1.244.10.in-addr.arpa", .ptr, .cluster("7.1.244.10.in-addr.arpa", namespace: nil, fallback: false)),
        ("1.1.168.192.in-addr.arpa", .ptr, .upstream),
        ("96.10.in-addr.arpa", .ptr, .upstream),
        ("a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa", .ptr,
         .cluster("a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa", namespace: nil, fallback: false)),
        ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa", .ptr, .upstream),
        // the workstation's search domain appended to a cluster name
        ("web.billing.corp.example", .a, .cluster("web.billing.svc.cluster.local", namespace: "billing", fallback: true)),
        ("web.billing.svc.corp.example", .a, .cluster("web.billing.svc.cluster.local", namespace: "billing", fallback: true)),
        // ...but an intranet host under that domain goes upstream directly
        ("www.corp.example", .a, .upstream),
        ("wiki.hr.corp.example", .a, .upstream),
        // a namespace that is not mapped
        ("web.payments", .a, .upstream),
        ("web.payments.corp.example", .a, .upstream),
        // unknown names under the synthetic domain
        ("a.b.c.tel2-search", .a, .nameError),
        ("tel2-search", .a, .nameError),
        // names outside the cluster
        ("example.org", .a, .upstream),
        ("www.example.org", .aaaa, .upstream),
        // excluded suffix, even where the shape would match (a namespace called "com")
        ("github.com", .a, .upstream),
        // include suffix
        ("db.internal.test", .a, .cluster("db.internal.test", namespace: nil, fallback: false)),
        // special names
        ("wpad.corp.example", .a, .nameError),
        ("localhost", .a, .local),
        (".", .ns, .upstream),
    ]

    @Test("query names map to cluster names, upstream or local answers", arguments: table)
    func mapping(name: String, type: DNSRecordType, expected: Expected) throws {
        var config = Self.config
        config.namespaces.insert("com")
        let route = ClusterDNSResolver(config: config).route(DNSQuestion(name: try DNSName(name), type: type))
        switch (route, expected) {
        case (.cluster(let query), .cluster(let expectedName, let namespace, let fallback)):
            #expect(query.name.isIdentical(to: try DNSName(expectedName)), "\(name) -> \(query.name)")
            #expect(query.type == type)
            #expect(query.namespace == namespace)
            #expect(query.fallsBackToUpstream == fallback)
        case (.upstream, .upstream), (.nameError, .nameError), (.local, .local):
            break
        default:
            Issue.record("\(name): got \(route), expected \(expected)")
        }
    }

    @Test("localhost answers loopback addresses")
    func localhost() throws {
        let resolver = ClusterDNSResolver(config: Self.config)
        #expect(resolver.route(DNSQuestion(name: try DNSName("localhost"), type: .a))
            == .local([ResourceRecord(name: try DNSName("localhost"), ttl: 60, data: .a(IPv4Address(127, 0, 0, 1)))]))
    }

    @Test("a namespace that becomes mapped starts to resolve as svc.ns")
    func namespaceMappingChange() throws {
        var config = Self.config
        let question = DNSQuestion(name: try DNSName("web.payments"), type: .a)
        #expect(ClusterDNSResolver(config: config).route(question) == .upstream)
        config.namespaces.insert("payments")
        guard case .cluster(let query) = ClusterDNSResolver(config: config).route(question) else {
            Issue.record("web.payments should be a cluster name once payments is mapped")
            return
        }
        #expect(query.name == (try DNSName("web.payments.svc.cluster.local")))
    }

    @Test("a different cluster domain is honoured")
    func customClusterDomain() throws {
        let config = ClusterDNSConfig(clusterDomain: try DNSName("k8s.internal"), connectedNamespace: "dev")
        let resolver = ClusterDNSResolver(config: config)
        guard case .cluster(let query) = resolver.route(DNSQuestion(name: try DNSName("api"), type: .a)) else {
            Issue.record("bare name should go to the cluster")
            return
        }
        #expect(query.name == (try DNSName("api.dev.svc.k8s.internal")))
        #expect(resolver.route(DNSQuestion(name: try DNSName("api.dev.svc.cluster.local"), type: .a)) == .upstream)
    }
}
