import DNS
import Testing

/// resolv.conf read with glibc's rules (res_init), which both the workstation (its original
/// servers and search list) and the traffic-manager (its pod's cluster domain) depend on.
@Suite struct ResolvConfTests {
    @Test func parsesAsGlibcDoes() {
        let conf = ResolvConf(parsing: """
            # managed by someone
            domain corp.example
            nameserver 192.0.2.53 ; primary
            nameserver 198.51.100.53
            search a.example b.example
            options ndots:2
            options timeout:1 rotate
            nonsense here
            """)
        #expect(conf.nameservers == ["192.0.2.53", "198.51.100.53"])
        #expect(conf.search == ["a.example", "b.example"])
        #expect(conf.options == ["ndots:2", "timeout:1", "rotate"])
    }

    @Test func theConnectedFilePutsOursFirst() {
        let original = ResolvConf(nameservers: ["192.0.2.53"], search: ["corp.example", "tel2-search"], options: ["ndots:2"])
        let connected = original.connected(dnsServer: "198.18.0.1", searchDomain: "tel2-search")
        #expect(connected.nameservers == ["198.18.0.1"])
        #expect(connected.search == ["tel2-search", "corp.example"])
        #expect(ResolvConf(parsing: connected.text) == connected)
    }

    @Test func keywordsCountOnlyAtTheStartOfALine() {
        let conf = ResolvConf(parsing: " nameserver 192.0.2.1\n\tsearch indented.example\nnameserver\t192.0.2.2\nsearchx a.example\nnameserver192.0.2.3\n")
        #expect(conf.nameservers == ["192.0.2.2"])
        #expect(conf.search == [])
    }

    /// glibc reads lines up to "\n" and keeps a "\r", which spoils that line's last word.
    @Test func aCarriageReturnStaysPartOfTheLine() {
        let conf = ResolvConf(parsing: "# dos\r\nnameserver 192.0.2.1\r\nnameserver 192.0.2.2 \r\nsearch a.example\r\n")
        #expect(conf.nameservers == ["192.0.2.2"])
        #expect(conf.search == ["a.example\r"])
    }

    @Test func atMostThreeValidServersAreKept() {
        let conf = ResolvConf(parsing: """
            nameserver not-an-address
            nameserver 192.0.2.1
            nameserver fe80::1%eth0
            nameserver 192.0.2.3
            nameserver 192.0.2.4
            """)
        #expect(conf.nameservers == ["192.0.2.1", "fe80::1%eth0", "192.0.2.3"])
    }

    @Test func theLastSearchOrDomainLineWins() {
        #expect(ResolvConf(parsing: "search a.example b.example\ndomain c.example d.example\n").search == ["c.example"])
        #expect(ResolvConf(parsing: "domain c.example\nsearch a.example b.example\n").search == ["a.example", "b.example"])
        // A comment character after the keyword is no comment: glibc reads it as a domain.
        #expect(ResolvConf(parsing: "search a.example # corp\n").search == ["a.example", "#", "corp"])
        // An empty search line changes nothing.
        #expect(ResolvConf(parsing: "search a.example\nsearch \n").search == ["a.example"])
    }

    @Test func aPodsFileGivesTheClusterDomain() {
        let conf = ResolvConf(parsing: "search ambassador.svc.example.org svc.example.org example.org\nnameserver 10.96.0.10\noptions ndots:5\n")
        #expect(conf.kubernetesClusterDomain == "example.org")
        #expect(conf.nameservers.first == "10.96.0.10")
        #expect(ResolvConf(parsing: "nameserver 1.1.1.1").kubernetesClusterDomain == nil)
    }
}
