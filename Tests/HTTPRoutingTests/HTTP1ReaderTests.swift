import HTTPRouting
import NIOCore
import Testing

/// A message read back: its head and its content, and every wire byte it came in.
struct ReadMessage: Equatable {
    var request: HTTP1RequestHead?
    var response: HTTP1ResponseHead?
    var body: [UInt8] = []
    var wire: [UInt8] = []
}

/// Feeds `chunks` one by one and collects the messages (a message ends at `.end`).
func readAll(_ reader: inout HTTP1Reader, _ chunks: [[UInt8]], eof: Bool = false) throws -> [ReadMessage] {
    var messages: [ReadMessage] = []
    var current = ReadMessage()
    func take(_ parts: [HTTP1Part]) {
        for part in parts {
            switch part {
            case .request(let head, let wire):
                current.request = head
                current.wire += Array(wire.readableBytesView)
            case .response(let head, let wire):
                current.response = head
                current.wire += Array(wire.readableBytesView)
            case .body(let bytes):
                current.body += Array(bytes.readableBytesView)
                current.wire += Array(bytes.readableBytesView)
            case .framing(let bytes):
                current.wire += Array(bytes.readableBytesView)
            case .end:
                messages.append(current)
                current = ReadMessage()
            }
        }
    }
    for chunk in chunks { take(try reader.feed(ByteBuffer(bytes: chunk))) }
    if eof { take(try reader.feedEOF()) }
    return messages
}

@Suite("HTTP1Reader: request and response framing")
struct HTTP1ReaderTests {
    @Test func readsAKeepAliveSequenceOfRequests() throws {
        var reader = HTTP1Reader(role: .request)
        let text = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-User: alice\r\n\r\n"
            + "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
            + "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
        let messages = try readAll(&reader, [Array(text.utf8)])
        #expect(messages.count == 3)
        #expect(messages[0].request?.path == "/a")
        #expect(messages[0].request?.fields == [HTTP1Field(name: "Host", value: "h"), HTTP1Field(name: "X-User", value: "alice")])
        #expect(messages[1].body == Array("hello".utf8))
        #expect(messages[2].body == Array("abcde".utf8))
        #expect(messages.flatMap(\.wire) == Array(text.utf8), "every byte comes out once, in order")
        #expect(reader.isIdle)
    }

    @Test func tellsOtherProtocolsApart() throws {
        var preface = HTTP1Reader(role: .request)
        #expect(try preface.feed(ByteBuffer(string: "PRI * HTTP/2")).isEmpty, "a prefix of the preface waits")
        #expect(throws: HTTP1Error.http2Preface) { try preface.feed(ByteBuffer(string: ".0\r\n\r\nSM\r\n\r\n")) }
        var binary = HTTP1Reader(role: .request)
        #expect(throws: HTTP1Error.notHTTP) { try binary.feed(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02])) }
        var ssh = HTTP1Reader(role: .request)
        #expect(throws: HTTP1Error.notHTTP) { try ssh.feed(ByteBuffer(string: "SSH-2.0-OpenSSH_9.6\r\n")) }
        var tooLarge = HTTP1Reader(role: .request, headLimit: 1024)
        #expect(throws: HTTP1Error.headTooLarge(limit: 1024)) {
            try tooLarge.feed(ByteBuffer(string: "GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000)))
        }
        var smuggled = HTTP1Reader(role: .request)
        #expect(throws: HTTP1Error.self) {
            try smuggled.feed(ByteBuffer(string: "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"))
        }
    }

    @Test func framesResponsesByTheirRequests() throws {
        var reader = HTTP1Reader(role: .response)
        for method in ["HEAD", "GET", "GET", "POST", "GET"] { reader.expectResponse(to: method) }
        let text = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"  // HEAD: no body
            + "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
            + "HTTP/1.1 204 No Content\r\n\r\n"
            + "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
            + "HTTP/1.0 200 OK\r\n\r\nuntil the close"
        let messages = try readAll(&reader, [Array(text.utf8)], eof: true)
        #expect(messages.map { $0.response?.status } == [200, 304, 204, 100, 200, 200])
        #expect(messages[4].body == Array("x".utf8))
        #expect(messages[5].body == Array("until the close".utf8))
        #expect(messages.flatMap(\.wire) == Array(text.utf8))
        #expect(reader.unansweredRequests == 0)
    }

    @Test func anUpgradeStopsReadingUntilItsAnswer() throws {
        var requests = HTTP1Reader(role: .request)
        let upgrade = "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
        #expect(try readAll(&requests, [Array((upgrade + "GET /next HTTP/1.1\r\n\r\n").utf8)]).count == 1)
        #expect(requests.awaitingAnswer)
        // Refused: the next request is read.
        let next = try requests.resume()
        #expect(next.count == 2)
        var responses = HTTP1Reader(role: .response)
        responses.expectResponse(to: "GET")
        let parts = try responses.feed(ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes"))
        #expect(parts.count == 2)
        #expect(responses.leftHTTP)
        #expect(String(buffer: responses.takeBuffered()) == "frames")
    }

    @Test func aCutMessageIsAnError() throws {
        var reader = HTTP1Reader(role: .request)
        _ = try reader.feed(ByteBuffer(string: "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"))
        #expect(throws: HTTP1Error.self) { try reader.feedEOF() }
    }

    /// Random messages, split at random points, read back as the same messages.
    @Test func randomMessagesSplitAnywhereReadTheSame() throws {
        var rng = SeededGenerator(seed: 14)
        for _ in 0..<300 {
            let requests = (0..<Int.random(in: 1...4, using: &rng)).map { _ in RandomMessage.request(using: &rng) }
            let wire = requests.flatMap(\.wire)
            var reader = HTTP1Reader(role: .request)
            let messages = try readAll(&reader, randomSplit(wire, using: &rng))
            #expect(messages.map(\.request?.method) == requests.map(\.method))
            #expect(messages.map(\.request?.target) == requests.map(\.target))
            #expect(messages.map(\.body) == requests.map(\.body))
            #expect(messages.flatMap(\.wire) == wire)

            var responses = HTTP1Reader(role: .response)
            let answers = requests.map { RandomMessage.response(to: $0.method, using: &rng) }
            for request in requests { responses.expectResponse(to: request.method) }
            let answerWire = answers.flatMap(\.wire)
            let read = try readAll(&responses, randomSplit(answerWire, using: &rng))
            #expect(read.map(\.response?.status) == answers.map(\.status))
            #expect(read.map(\.body) == answers.map(\.body))
            #expect(read.flatMap(\.wire) == answerWire)
        }
    }

    /// Random and mutated inputs never crash or hang the reader: each ends in parts or an error.
    @Test func fuzzedInputsNeverCrash() {
        var rng = SeededGenerator(seed: 99)
        for iteration in 0..<3000 {
            var bytes: [UInt8]
            if iteration % 3 == 0 {
                bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                bytes = (0..<3).flatMap { _ in RandomMessage.request(using: &rng).wire }
                for _ in 0..<Int.random(in: 1...6, using: &rng) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes.remove(at: at)
                    case 2: bytes.insert(contentsOf: Array([":", "\r\n", "\n", "0", "f", " "].randomElement(using: &rng)!.utf8), at: at)
                    default: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...20, using: &rng)))
                    }
                }
            }
            for role in [HTTP1Reader.Role.request, .response] {
                var reader = HTTP1Reader(role: role, headLimit: 512)
                for _ in 0..<8 { reader.expectResponse(to: ["GET", "HEAD", "CONNECT"].randomElement(using: &rng)!) }
                var fed = 0
                for chunk in randomSplit(bytes, using: &rng) {
                    guard (try? reader.feed(ByteBuffer(bytes: chunk))) != nil else { break }
                    fed += chunk.count
                    if reader.awaitingAnswer { _ = try? reader.resume() }
                }
                _ = try? reader.feedEOF()
                #expect(fed <= bytes.count)
            }
        }
    }
}

struct RandomMessage {
    var method = ""
    var target = ""
    var status = 0
    var body: [UInt8] = []
    var wire: [UInt8] = []

    static func request(using rng: inout SeededGenerator) -> RandomMessage {
        var m = RandomMessage()
        m.method = ["GET", "POST", "PUT", "DELETE", "PATCH"].randomElement(using: &rng)!
        m.target = "/" + randomToken(using: &rng) + (Bool.random(using: &rng) ? "?q=" + randomToken(using: &rng) : "")
        m.body = m.method == "GET" ? [] : Array(randomToken(using: &rng, max: 200).utf8)
        var head = "\(m.method) \(m.target) HTTP/1.1\r\nHost: example\r\n"
        for _ in 0..<Int.random(in: 0...4, using: &rng) { head += "X-\(randomToken(using: &rng)): \(randomToken(using: &rng))\r\n" }
        let chunked = !m.body.isEmpty && Bool.random(using: &rng)
        head += chunked ? "Transfer-Encoding: chunked\r\n\r\n" : (m.body.isEmpty ? "\r\n" : "Content-Length: \(m.body.count)\r\n\r\n")
        m.wire = Array(head.utf8) + (chunked ? chunk(m.body, using: &rng) : m.body)
        return m
    }

    static func response(to method: String, using rng: inout SeededGenerator) -> RandomMessage {
        var m = RandomMessage()
        m.status = [200, 201, 204, 304, 404, 500].randomElement(using: &rng)!
        let hasBody = method != "HEAD" && m.status != 204 && m.status != 304
        let content = Array(randomToken(using: &rng, max: 300).utf8)
        m.body = hasBody ? content : []
        var head = "HTTP/1.1 \(m.status) Whatever It Says\r\nServer: test\r\n"
        let chunked = Bool.random(using: &rng)
        head += chunked ? "Transfer-Encoding: chunked\r\n\r\n" : "Content-Length: \(content.count)\r\n\r\n"
        m.wire = Array(head.utf8) + (hasBody ? (chunked ? chunk(m.body, using: &rng) : m.body) : [])
        return m
    }

    static func chunk(_ body: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        var out: [UInt8] = []
        var rest = body[...]
        while !rest.isEmpty {
            let n = Int.random(in: 1...max(1, rest.count), using: &rng)
            out += Array((String(n, radix: 16) + (Bool.random(using: &rng) ? ";x=y" : "") + "\r\n").utf8) + rest.prefix(n) + Array("\r\n".utf8)
            rest = rest.dropFirst(n)
        }
        return out + Array("0\r\n".utf8) + (Bool.random(using: &rng) ? Array("Checksum: 1\r\n".utf8) : []) + Array("\r\n".utf8)
    }
}

func randomToken(using rng: inout SeededGenerator, max: Int = 12) -> String {
    let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789-_")
    return String((0..<Int.random(in: 1...max, using: &rng)).map { _ in letters.randomElement(using: &rng)! })
}

func randomSplit(_ bytes: [UInt8], using rng: inout SeededGenerator) -> [[UInt8]] {
    var chunks: [[UInt8]] = []
    var rest = bytes[...]
    while !rest.isEmpty {
        let n = Int.random(in: 1...max(1, min(rest.count, Bool.random(using: &rng) ? 3 : 200)), using: &rng)
        chunks.append(Array(rest.prefix(n)))
        rest = rest.dropFirst(n)
    }
    return chunks
}

/// SplitMix64: the same inputs on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
