import DNS
import NetworkAddress
import Testing

@Suite("DNS codec")
struct DNSCodecTests {
    /// `dig example.com A` as dig 9.18 sends it: RD and AD set, EDNS 1232 with a client cookie.
    static let digQuery: [UInt8] = [
        0x8A, 0x3B, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        0x07, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0x03, 0x63, 0x6F, 0x6D, 0x00,
        0x00, 0x01, 0x00, 0x01,
        0x00, 0x00, 0x29, 0x04, 0xD0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0C,
        0x00, 0x0A, 0x00, 0x08, 0x1C, 0x5E, 0x2B, 0x7D, 0x90, 0x11, 0x3A, 0xF4,
    ]

    @Test("a dig query parses into its fields and serializes to the same bytes")
    func digQueryVector() throws {
        let message = try DNSMessage(bytes: Self.digQuery)
        #expect(message.header.id == 0x8A3B)
        #expect(!message.header.isResponse)
        #expect(message.header.recursionDesired)
        #expect(message.header.zBits == 0x2) // the AD bit, kept as sent
        #expect(message.questions == [DNSQuestion(name: try DNSName("example.com"), type: .a)])
        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 1232)
        #expect(edns.options.count == 12)
        #expect(message.maxUDPResponseSize == 1232)
        #expect(try message.serialized() == Self.digQuery)
    }

    /// A response with three records whose names share suffixes, as a real resolver sends it.
    static let compressedResponse: [UInt8] = [
        0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
        // question www.example.com A IN at offset 12
        0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 0x03, 0x63, 0x6F, 0x6D, 0x00,
        0x00, 0x01, 0x00, 0x01,
        // answer: www.example.com (pointer to 12) CNAME web.example.com (web + pointer to 16)
        0xC0, 0x0C, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x06,
        0x03, 0x77, 0x65, 0x62, 0xC0, 0x10,
        // answer: web.example.com (pointer to 45) A 93.184.216.34
        0xC0, 0x2D, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0E, 0x10, 0x00, 0x04,
        0x5D, 0xB8, 0xD8, 0x22,
    ]

    @Test("compression pointers are followed on read, and the writer compresses the same way")
    func compressionVector() throws {
        let message = try DNSMessage(bytes: Self.compressedResponse)
        let www = try DNSName("www.example.com")
        let web = try DNSName("web.example.com")
        #expect(message.answers == [
            ResourceRecord(name: www, ttl: 3600, data: .cname(web)),
            ResourceRecord(name: web, ttl: 3600, data: .a(IPv4Address(93, 184, 216, 34))),
        ])
        #expect(try message.serialized() == Self.compressedResponse)
    }

    @Test("names compare without regard to case but keep the case they were written in")
    func caseInsensitiveNames() throws {
        let mixed = try DNSName("Web.Shop.SVC.cluster.local.")
        #expect(mixed == (try DNSName("web.shop.svc.CLUSTER.LOCAL")))
        #expect(mixed.hashValue == (try DNSName("web.shop.svc.cluster.local")).hashValue)
        #expect(mixed.description == "Web.Shop.SVC.cluster.local.")
        let query = DNSMessage(header: DNSHeader(id: 7), questions: [DNSQuestion(name: mixed, type: .a)])
        let parsed = try DNSMessage(bytes: try query.serialized())
        #expect(parsed.questions[0].name.isIdentical(to: mixed))
    }

    @Test("labels over 63 bytes, names over 255 bytes and empty labels are refused")
    func nameLimits() throws {
        let label63 = String(repeating: "a", count: 63)
        #expect(throws: Never.self) { try DNSName("\(label63).example") }
        #expect(throws: DNSCodecError.labelTooLong(64)) { try DNSName(String(repeating: "a", count: 64) + ".example") }
        #expect(throws: DNSCodecError.emptyLabel) { try DNSName("a..example") }
        #expect(throws: DNSCodecError.emptyLabel) { try DNSName(".example") }
        // 4 labels of 63 = 4 * 64 + 1 = 257 bytes on the wire.
        #expect(throws: DNSCodecError.nameTooLong(257)) { try DNSName([label63, label63, label63, label63].joined(separator: ".")) }
        #expect(try DNSName(".").isRoot)
        #expect(try DNSName("").isRoot)
        #expect(try DNSName("a\\.b.c").labels.count == 2)
        #expect(try DNSName("a\\.b.c").description == "a\\.b.c.")
        #expect(try DNSName("\\000x").labels == [[0, 0x78]])
    }

    @Test("every record type this server uses survives a round trip")
    func recordTypesRoundTrip() throws {
        let owner = try DNSName("web.shop.svc.cluster.local")
        var message = DNSMessage(header: DNSHeader(id: 99, isResponse: true, isAuthoritative: true, recursionAvailable: true))
        message.questions = [DNSQuestion(name: owner, type: .any)]
        message.answers = [
            ResourceRecord(name: owner, ttl: 4, data: .a(IPv4Address(10, 96, 0, 20))),
            ResourceRecord(name: owner, ttl: 4, data: .aaaa(try #require(IPv6Address("fd00:10:96::14")))),
            ResourceRecord(name: owner, ttl: 4, data: .cname(try DNSName("other.shop.svc.cluster.local"))),
            ResourceRecord(name: try DNSName("20.0.96.10.in-addr.arpa"), ttl: 4, data: .ptr(owner)),
            ResourceRecord(name: try DNSName("_http._tcp.web.shop.svc.cluster.local"), ttl: 4,
                           data: .srv(priority: 0, weight: 100, port: 8080, target: owner)),
            ResourceRecord(name: owner, ttl: 4, data: .txt([Array("v=1".utf8), [], Array(repeating: 0x41, count: 255)])),
            ResourceRecord(name: owner, ttl: 4, data: .unknown(type: DNSRecordType(rawValue: 65), bytes: [1, 2, 3])),
        ]
        message.authorities = [
            ResourceRecord(name: try DNSName("cluster.local"), ttl: 4, data: .ns(try DNSName("ns.dns.cluster.local"))),
            ResourceRecord(name: try DNSName("cluster.local"), ttl: 4, data: .soa(SOAData(
                primaryServer: try DNSName("ns.dns.cluster.local"), responsibleMailbox: try DNSName("hostmaster.cluster.local"),
                serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5))),
        ]
        message.additionals = [EDNS(udpPayloadSize: 4096, dnssecOK: true, options: [0, 10, 0, 2, 0xAB, 0xCD]).record]
        let bytes = try message.serialized()
        let parsed = try DNSMessage(bytes: bytes)
        #expect(parsed == message)
        #expect(parsed.edns == EDNS(udpPayloadSize: 4096, dnssecOK: true, options: [0, 10, 0, 2, 0xAB, 0xCD]))
        // Compression at work: the owner name is written once in full.
        let needle = Array("shop".utf8)
        let occurrences = (0...(bytes.count - needle.count)).filter { Array(bytes[$0..<$0 + needle.count]) == needle }.count
        #expect(occurrences == 2) // the question, and the SRV target, which RFC 2782 keeps uncompressed
    }

    @Test("an answer larger than the client's UDP size is cut to whole records with TC set and OPT kept")
    func truncation() throws {
        let owner = try DNSName("big.shop.svc.cluster.local")
        let query = DNSMessage(
            header: DNSHeader(id: 5), questions: [DNSQuestion(name: owner, type: .a)],
            additionals: [EDNS(udpPayloadSize: 512).record]
        )
        var response = try DNSMessage(bytes: try query.serialized()).makeResponse()
        response.answers = (0..<100).map { ResourceRecord(name: owner, ttl: 4, data: .a(IPv4Address(10, 0, 0, UInt8($0)))) }
        let bytes = try response.serialized(maxSize: query.maxUDPResponseSize)
        #expect(bytes.count <= 512)
        let parsed = try DNSMessage(bytes: bytes)
        #expect(parsed.header.isTruncated)
        #expect(parsed.answers.count > 10 && parsed.answers.count < 100)
        #expect(parsed.answers == Array(response.answers.prefix(parsed.answers.count)))
        #expect(parsed.edns?.udpPayloadSize == 1232)
        let whole = try DNSMessage(bytes: try response.serialized())
        #expect(!whole.header.isTruncated)
        #expect(whole.answers.count == 100)
    }

    @Test("a query without EDNS gets at most 512 bytes; its response carries no OPT")
    func noEDNS() throws {
        let query = DNSMessage(header: DNSHeader(id: 1), questions: [DNSQuestion(name: try DNSName("a.b"), type: .a)])
        #expect(query.maxUDPResponseSize == 512)
        #expect(query.makeResponse().edns == nil)
        #expect(query.makeResponse().header.id == 1)
    }

    @Test("malformed messages are refused with a typed error", arguments: [
        // (bytes, expected error)
        ([0x00, 0x01, 0x00], DNSCodecError.truncated(offset: 2)),
        // a question count of 1 with no question
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], DNSCodecError.truncated(offset: 12)),
        // a pointer to itself
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1], DNSCodecError.badPointer(offset: 12)),
        // a pointer forward
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0E, 0, 1, 0, 1, 0], DNSCodecError.badPointer(offset: 12)),
        // a label running past the end
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x05, 0x61, 0x62, 0, 1, 0, 1], DNSCodecError.truncated(offset: 19)),
        // the retired 0x40 label type
        ([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0x61, 0, 0, 1, 0, 1], DNSCodecError.unsupportedLabelType(offset: 12)),
        // an A record with 3 bytes of data
        ([0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3], DNSCodecError.badRecordData(type: 1, offset: 23)),
        // bytes after the last section
        ([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF], DNSCodecError.trailingBytes(count: 1)),
    ] as [([UInt8], DNSCodecError)])
    func malformed(bytes: [UInt8], expected: DNSCodecError) {
        #expect(throws: expected) { try DNSMessage(bytes: bytes) }
    }

    @Test("a name whose pointer leads back into itself (a.a.a.… forever) is refused")
    func pointerLoop() {
        let bytes: [UInt8] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x01, 0x61, 0xC0, 0x0C, 0, 1, 0, 1]
        #expect(throws: DNSCodecError.badPointer(offset: 14)) { try DNSMessage(bytes: bytes) }
    }

    @Test("a name that would exceed 255 bytes through pointers is refused")
    func longNameThroughPointers() {
        var bytes: [UInt8] = [0, 1, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0]
        // First question: one 63-byte label then root.
        var previous = bytes.count
        bytes += [63] + Array(repeating: 0x61, count: 63) + [0, 0, 1, 0, 1]
        // Each further question: a 63-byte label then a pointer to the previous name.
        for _ in 0..<4 {
            let start = bytes.count
            bytes += [63] + Array(repeating: 0x62, count: 63) + [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF), 0, 1, 0, 1]
            previous = start
        }
        #expect(throws: DNSCodecError.nameTooLong(257)) { try DNSMessage(bytes: bytes) }
    }

    @Test("reverse names decode to addresses, v4 and v6")
    func reverseNames() throws {
        #expect(ClusterDNSResolver.reverseIPv4(try DNSName("10.0.96.10.in-addr.arpa")) == IPv4Address(10, 96, 0, 10))
        #expect(ClusterDNSResolver.reverseIPv4(try DNSName("300.0.96.10.in-addr.arpa")) == nil)
        let v6 = try #require(IPv6Address("fd00:10:96::a"))
        let nibbles = v6.bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0xF, radix: 16)] }.reversed()
        let name = try DNSName(nibbles.joined(separator: ".") + ".ip6.arpa")
        #expect(ClusterDNSResolver.reverseIPv6(name) == v6)
    }
}
