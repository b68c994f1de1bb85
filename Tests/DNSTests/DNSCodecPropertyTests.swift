import TestSupport
import DNS
import NetworkAddress
import Testing

@Suite("DNS codec properties")
struct DNSCodecPropertyTests {
    @Test("random messages survive serialize then parse, names byte for byte", arguments: [UInt64(1), 2, 3, 4])
    func roundTrip(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for iteration in 0..<500 {
            let message = Self.randomMessage(using: &generator)
            let bytes = try message.serialized()
            let parsed = try DNSMessage(bytes: bytes)
            #expect(parsed == message, "seed \(seed) iteration \(iteration)")
            // Names compare without case; their text shows every byte, so this checks case is kept.
            #expect(String(describing: parsed) == String(describing: message))
            if parsed != message { return }
        }
    }

    @Test("random truncation keeps the message parseable and under the limit", arguments: [UInt64(11), 12])
    func truncatedRoundTrip(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<300 {
            let message = Self.randomMessage(using: &generator)
            let full = try message.serialized()
            let limit = Int.random(in: 12...max(12, full.count), using: &generator)
            let cut = try message.serialized(maxSize: limit)
            let parsed = try DNSMessage(bytes: cut)
            let hasOPT = message.additionals.contains { $0.type == .opt }
            // Header, questions and OPT are never dropped, so only they may exceed the limit.
            if cut.count > limit {
                #expect(parsed.answers.isEmpty && parsed.authorities.isEmpty)
            }
            #expect(parsed.header.isTruncated == (cut.count < full.count))
            #expect(parsed.questions == message.questions)
            #expect(parsed.additionals.contains { $0.type == .opt } == hasOPT)
        }
    }

    @Test("random and mutated bytes never trap: parse returns a message or a typed error")
    func fuzz() async throws {
        var generator = SeededGenerator(seed: 0xF0F0)
        let clock = ContinuousClock()
        let start = clock.now
        var parsedCount = 0
        var refusedCount = 0
        func attempt(_ bytes: [UInt8]) {
            do {
                let message = try DNSMessage(bytes: bytes)
                parsedCount += 1
                // Whatever parsed must serialize again and parse to the same message.
                if let again = try? message.serialized(), let reparsed = try? DNSMessage(bytes: again) {
                    #expect(reparsed == message)
                }
            } catch {
                refusedCount += 1
            }
        }
        for round in 0..<20_000 {
            // CPU-bound for seconds: let the other tests' tasks (and their deadlines) run too.
            if round % 500 == 0 { await Task.yield() }
            let length = Int.random(in: 0...300, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Small counts make it past the header often enough to exercise the sections.
            if bytes.count >= 12 {
                for index in [4, 6, 8, 10] { bytes[index] = 0 }
                for index in [5, 7, 9, 11] { bytes[index] = UInt8.random(in: 0...3, using: &generator) }
            }
            attempt(bytes)
        }
        let seeds = try [DNSCodecTests.digQuery, DNSCodecTests.compressedResponse] + (0..<20).map { _ in
            try Self.randomMessage(using: &generator).serialized()
        }
        for seedBytes in seeds {
            await Task.yield()
            for _ in 0..<1_000 {
                var bytes = seedBytes
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0 where !bytes.isEmpty:
                        bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                    case 1 where !bytes.isEmpty:
                        bytes.removeLast(Int.random(in: 1...bytes.count, using: &generator))
                    case 2:
                        // Pointers are the dangerous part; plant one anywhere.
                        let at = Int.random(in: 0...bytes.count, using: &generator)
                        bytes.insert(contentsOf: [0xC0, UInt8.random(in: 0...255, using: &generator)], at: at)
                    default:
                        bytes.append(UInt8.random(in: 0...255, using: &generator))
                    }
                }
                attempt(bytes)
            }
        }
        print("fuzz: \(parsedCount) parsed, \(refusedCount) refused in \(clock.now - start)")
        #expect(parsedCount > 0 && refusedCount > 0)
    }

    // MARK: - Generators

    static func randomName(using generator: inout SeededGenerator) -> DNSName {
        // A small alphabet of labels so that names share suffixes and compression kicks in.
        let pool = ["svc", "cluster", "local", "Web", "web", "shop", "SHOP", "a", "x-1", "_http", "_tcp", "example", "COM", "com"]
        var labels: [[UInt8]] = []
        var wire = 1
        for _ in 0..<Int.random(in: 0...6, using: &generator) {
            let label: [UInt8]
            if Int.random(in: 0..<5, using: &generator) == 0 {
                label = (0..<Int.random(in: 1...63, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            } else {
                label = Array(pool.randomElement(using: &generator)!.utf8)
            }
            guard wire + 1 + label.count <= DNSName.maxWireLength else { break }
            wire += 1 + label.count
            labels.append(label)
        }
        return try! DNSName(labels: labels)
    }

    static func randomRecord(using generator: inout SeededGenerator) -> ResourceRecord {
        let name = randomName(using: &generator)
        let ttl = UInt32.random(in: 0...UInt32.max, using: &generator)
        let data: RecordData
        switch Int.random(in: 0..<9, using: &generator) {
        case 0: data = .a(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &generator)))
        case 1: data = .aaaa(IPv6Address(high: generator.next(), low: generator.next()))
        case 2: data = .cname(randomName(using: &generator))
        case 3: data = .ptr(randomName(using: &generator))
        case 4: data = .ns(randomName(using: &generator))
        case 5:
            data = .srv(priority: UInt16.random(in: 0...UInt16.max, using: &generator), weight: 1,
                        port: UInt16.random(in: 0...UInt16.max, using: &generator), target: randomName(using: &generator))
        case 6:
            data = .txt((0..<Int.random(in: 1...3, using: &generator)).map { _ in
                (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            })
        case 7:
            data = .soa(SOAData(
                primaryServer: randomName(using: &generator), responsibleMailbox: randomName(using: &generator),
                serial: 1, refresh: 2, retry: 3, expire: 4, minimum: UInt32.random(in: 0...600, using: &generator)))
        default:
            data = .unknown(type: DNSRecordType(rawValue: UInt16.random(in: 256...65000, using: &generator)),
                            bytes: (0..<Int.random(in: 0...20, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        return ResourceRecord(name: name, recordClass: .internet, ttl: ttl, data: data)
    }

    static func randomMessage(using generator: inout SeededGenerator) -> DNSMessage {
        let header = DNSHeader(
            id: UInt16.random(in: 0...UInt16.max, using: &generator),
            isResponse: Bool.random(using: &generator), opcode: UInt8.random(in: 0...15, using: &generator),
            isAuthoritative: Bool.random(using: &generator), isTruncated: false,
            recursionDesired: Bool.random(using: &generator), recursionAvailable: Bool.random(using: &generator),
            zBits: UInt8.random(in: 0...7, using: &generator), rcode: UInt8.random(in: 0...15, using: &generator)
        )
        var message = DNSMessage(header: header)
        message.questions = (0..<Int.random(in: 0...2, using: &generator)).map { _ in
            DNSQuestion(name: randomName(using: &generator), type: DNSRecordType(rawValue: UInt16.random(in: 1...300, using: &generator)))
        }
        message.answers = (0..<Int.random(in: 0...8, using: &generator)).map { _ in randomRecord(using: &generator) }
        message.authorities = (0..<Int.random(in: 0...3, using: &generator)).map { _ in randomRecord(using: &generator) }
        message.additionals = (0..<Int.random(in: 0...3, using: &generator)).map { _ in randomRecord(using: &generator) }
        if Bool.random(using: &generator) {
            message.additionals.append(EDNS(udpPayloadSize: UInt16.random(in: 512...4096, using: &generator)).record)
        }
        return message
    }
}
