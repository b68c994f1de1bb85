import NIOCore

/// What an `HTTP1Reader` found in the bytes it was fed. Every byte fed comes out in exactly
/// one part, in order (`head`'s `wire`, `body`, `framing`), so forwarding a message is writing
/// its parts' bytes: body bytes are slices of what was read, never copied.
public enum HTTP1Part: Hashable, Sendable {
    case request(HTTP1RequestHead, wire: ByteBuffer)
    case response(HTTP1ResponseHead, wire: ByteBuffer)
    /// Content bytes (on the wire as they are).
    case body(ByteBuffer)
    /// Chunk-size lines, the CRLF after each chunk, the last chunk and its trailers: on the
    /// wire, not content.
    case framing(ByteBuffer)
    /// The message is complete (for an interim 1xx response: that interim one).
    case end
}

/// Why bytes cannot be read as HTTP/1.1 (one sentence each).
public enum HTTP1Error: Error, Hashable, Sendable, CustomStringConvertible {
    /// The connection's first bytes are not an HTTP/1.x request line.
    case notHTTP
    /// The connection starts with the HTTP/2 connection preface (prior knowledge).
    case http2Preface
    case malformed(String)
    case headTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .notHTTP: "the connection does not speak HTTP/1.x"
        case .http2Preface: "the connection speaks HTTP/2 (prior knowledge)"
        case .malformed(let reason): "malformed HTTP/1.1 message: \(reason)"
        case .headTooLarge(let limit): "an HTTP/1.1 head (or chunk line, or trailers) exceeds \(limit) bytes"
        }
    }
}

/// Reads HTTP/1.1 messages of one direction of a connection, as a state machine without I/O:
/// request heads or response heads, then the body's framing (Content-Length, chunked with
/// trailers, none, or until the connection closes for a response). It keeps only the bytes of an
/// unfinished line; heads (with chunk lines and trailers) are limited to `headLimit` bytes.
///
/// A response reader is told each request's method as it is sent (`expectResponse(to:)`):
/// HEAD answers have no body, 1xx answers are interim (another follows), and after `101` (or a
/// 2xx to CONNECT) the connection is no longer HTTP (`leftHTTP`). A request reader stops after
/// a request that asks to leave HTTP/1.1 (`Upgrade`, `CONNECT`) until `resume()` says the
/// answer refused (`awaitingAnswer` meanwhile; later bytes are kept).
public struct HTTP1Reader: Sendable {
    public enum Role: Sendable { case request, response }

    public static let defaultHeadLimit = 64 * 1024
    public static let http2Preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    public let role: Role
    public let headLimit: Int
    private var buffer = ByteBuffer()
    private var state: State = .head
    /// Bytes of the current head (or line) already searched for its end.
    private var scanned = 0
    /// Requests answered so far on this connection (the first request decides "not HTTP").
    private var messages = 0
    /// Response role: the methods of requests sent and not yet finally answered.
    private var methods: [String] = []
    /// Bytes of the current chunk-size line or trailer section read so far (the limit).
    private var framingBytes = 0

    private enum State: Sendable, Equatable {
        case head
        case fixed(remaining: Int)
        case chunkLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case awaitingAnswer
        case leftHTTP
        case failed
    }

    public init(role: Role, headLimit: Int = HTTP1Reader.defaultHeadLimit) {
        self.role = role
        self.headLimit = headLimit
    }

    /// Response role: a request with `method` was sent on this connection.
    public mutating func expectResponse(to method: String) { methods.append(method) }

    /// Requests whose final response has not been read yet (response role).
    public var unansweredRequests: Int { methods.count }

    /// Between messages, with nothing of the next one read.
    public var isIdle: Bool { state == .head && buffer.readableBytes == 0 }

    /// A request asked to leave HTTP/1.1 and waits for its answer.
    public var awaitingAnswer: Bool { state == .awaitingAnswer }

    /// The connection switched protocols (101, or a CONNECT's 2xx): bytes are no longer HTTP.
    public var leftHTTP: Bool { state == .leftHTTP }

    /// Bytes fed but not yet returned in parts (after `leftHTTP`, `awaitingAnswer` or an error:
    /// what follows on the connection).
    public mutating func takeBuffered() -> ByteBuffer {
        defer { buffer = ByteBuffer() }
        return buffer
    }

    /// The request that waited for its answer was refused: reading goes on.
    public mutating func resume() throws(HTTP1Error) -> [HTTP1Part] {
        guard state == .awaitingAnswer else { return [] }
        state = .head
        return try parse()
    }

    /// The answer accepted: the connection is no longer HTTP.
    public mutating func leaveHTTP() { state = .leftHTTP }

    public mutating func feed(_ bytes: ByteBuffer) throws(HTTP1Error) -> [HTTP1Part] {
        guard state != .failed else { throw .malformed("the connection already failed") }
        if buffer.readableBytes == 0 {
            buffer = bytes
        } else {
            var bytes = bytes
            buffer.writeBuffer(&bytes)
        }
        return try parse()
    }

    /// The peer closed its side: the end of a response delimited by the close, or nothing.
    /// Throws when a message was cut short.
    public mutating func feedEOF() throws(HTTP1Error) -> [HTTP1Part] {
        switch state {
        case .untilClose:
            state = .head
            return [.end]
        case .head where buffer.readableBytes == 0, .leftHTTP, .awaitingAnswer, .failed:
            return []
        default:
            state = .failed
            throw .malformed("the connection closed in the middle of a message")
        }
    }

    // MARK: Parsing

    private mutating func parse() throws(HTTP1Error) -> [HTTP1Part] {
        var parts: [HTTP1Part] = []
        do {
            while try step(&parts) {}
        } catch {
            state = .failed
            throw error
        }
        return parts
    }

    /// One step of progress; false when more bytes are needed (or reading stopped).
    private mutating func step(_ parts: inout [HTTP1Part]) throws(HTTP1Error) -> Bool {
        switch state {
        case .head:
            return try readHead(&parts)
        case .fixed(let remaining):
            guard buffer.readableBytes > 0 else { return false }
            let n = min(remaining, buffer.readableBytes)
            parts.append(.body(buffer.readSlice(length: n)!))
            if n == remaining { finishMessage(&parts) } else { state = .fixed(remaining: remaining - n) }
            return true
        case .untilClose:
            guard buffer.readableBytes > 0 else { return false }
            parts.append(.body(buffer.readSlice(length: buffer.readableBytes)!))
            return false
        case .chunkLine:
            guard let line = try readLine() else { return false }
            let size = try Self.chunkSize(line.text)
            parts.append(.framing(line.wire))
            state = size == 0 ? .trailers : .chunkData(remaining: size)
            return true
        case .chunkData(let remaining):
            guard buffer.readableBytes > 0 else { return false }
            let n = min(remaining, buffer.readableBytes)
            parts.append(.body(buffer.readSlice(length: n)!))
            state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            return true
        case .chunkDataEnd:
            guard let line = try readLine() else { return false }
            guard line.text.isEmpty else { throw .malformed("a chunk is longer than its size says") }
            parts.append(.framing(line.wire))
            framingBytes = 0
            state = .chunkLine
            return true
        case .trailers:
            guard let line = try readLine() else { return false }
            parts.append(.framing(line.wire))
            if line.text.isEmpty {
                framingBytes = 0
                finishMessage(&parts)
            } else if !line.text.contains(":") {
                throw .malformed("a trailer field has no colon")
            }
            return true
        case .awaitingAnswer, .leftHTTP, .failed:
            return false
        }
    }

    /// A line ending in LF (its CR, if any, dropped from `text`), within the framing limit.
    private mutating func readLine() throws(HTTP1Error) -> (text: Substring, wire: ByteBuffer)? {
        let view = buffer.readableBytesView
        guard let lf = view.firstIndex(of: UInt8(ascii: "\n")) else {
            if framingBytes + buffer.readableBytes > headLimit { throw .headTooLarge(limit: headLimit) }
            return nil
        }
        let length = lf - view.startIndex + 1
        framingBytes += length
        if framingBytes > headLimit { throw .headTooLarge(limit: headLimit) }
        let wire = buffer.readSlice(length: length)!
        var text = Substring(decoding: wire.readableBytesView.dropLast(), as: UTF8.self)
        if text.last == "\r" { text = text.dropLast() }
        return (text, wire)
    }

    static func chunkSize(_ line: Substring) throws(HTTP1Error) -> Int {
        let digits = line.prefix { $0 != ";" }.trimmingBlanks()
        guard !digits.isEmpty, digits.count <= 15, let size = Int(digits, radix: 16), size >= 0 else {
            throw .malformed("bad chunk size '\(line.prefix(40))'")
        }
        return size
    }

    private mutating func readHead(_ parts: inout [HTTP1Part]) throws(HTTP1Error) -> Bool {
        if role == .request {
            // A client may send empty lines between requests (RFC 9112 §2.2).
            while let first = buffer.readableBytesView.first, first == UInt8(ascii: "\r") || first == UInt8(ascii: "\n") {
                if first == UInt8(ascii: "\r"), buffer.readableBytes < 2 { return false }
                if first == UInt8(ascii: "\r"), buffer.readableBytesView.dropFirst().first != UInt8(ascii: "\n") {
                    throw messages == 0 ? .notHTTP : .malformed("a stray carriage return between requests")
                }
                buffer.moveReaderIndex(forwardBy: first == UInt8(ascii: "\r") ? 2 : 1)
            }
            if messages == 0 { try sniff() }
        }
        guard buffer.readableBytes > 0, let end = headEnd() else {
            if buffer.readableBytes > headLimit { throw .headTooLarge(limit: headLimit) }
            return false
        }
        guard end <= headLimit else { throw .headTooLarge(limit: headLimit) }
        let wire = buffer.readSlice(length: end)!
        scanned = 0
        // Split on bytes: as Characters, "\r\n" is one grapheme and never equals "\n".
        var lines = wire.readableBytesView.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { Substring(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0, as: UTF8.self) }
        lines.removeLast(2)  // the empty line and what follows the last LF
        guard let first = lines.first else { throw .malformed("an empty head") }
        let fields = try Self.fields(lines.dropFirst())
        switch role {
        case .request:
            let head = try requestLine(first, fields: fields)
            parts.append(.request(head, wire: wire))
            try startBody(request: head, &parts)
        case .response:
            let head = try Self.statusLine(first, fields: fields)
            parts.append(.response(head, wire: wire))
            try startBody(response: head, &parts)
        }
        return true
    }

    /// The first request's first bytes: the HTTP/2 preface, or clearly not a request line.
    private func sniff() throws(HTTP1Error) {
        let view = buffer.readableBytesView
        let preface = Self.http2Preface
        if view.count >= preface.count, view.prefix(preface.count).elementsEqual(preface) { throw .http2Preface }
        if view.count < preface.count, view.elementsEqual(preface.prefix(view.count)) { return }
        // A method is a token followed by a space.
        for (i, byte) in view.enumerated() {
            if byte == UInt8(ascii: " ") {
                if i == 0 { throw .notHTTP }
                return
            }
            if i >= 32 || !Self.isToken(byte) { throw .notHTTP }
        }
    }

    /// The length of the head (through its empty line), or nil when it is not all here.
    private mutating func headEnd() -> Int? {
        let view = buffer.readableBytesView
        var i = view.startIndex + max(0, scanned - 2)
        while let lf = view[i...].firstIndex(of: UInt8(ascii: "\n")) {
            let next = lf + 1
            if next < view.endIndex, view[next] == UInt8(ascii: "\n") { return next + 1 - view.startIndex }
            if next + 1 < view.endIndex, view[next] == UInt8(ascii: "\r"), view[next + 1] == UInt8(ascii: "\n") {
                return next + 2 - view.startIndex
            }
            if next + 1 >= view.endIndex { break }
            i = next
        }
        scanned = view.count
        return nil
    }

    private func requestLine(_ line: Substring, fields: [HTTP1Field]) throws(HTTP1Error) -> HTTP1RequestHead {
        let pieces = line.split(separator: " ", omittingEmptySubsequences: false)
        let bad: HTTP1Error = messages == 0 ? .notHTTP : .malformed("bad request line '\(line.prefix(80))'")
        guard pieces.count == 3, !pieces[0].isEmpty, pieces[0].utf8.allSatisfy(Self.isToken), !pieces[1].isEmpty,
              let minor = Self.version(pieces[2])
        else { throw bad }
        return HTTP1RequestHead(method: String(pieces[0]), target: String(pieces[1]), minorVersion: minor, fields: fields)
    }

    static func statusLine(_ line: Substring, fields: [HTTP1Field]) throws(HTTP1Error) -> HTTP1ResponseHead {
        let pieces = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count >= 2, let minor = version(pieces[0]), pieces[1].count == 3, let status = Int(pieces[1]), status >= 100
        else { throw .malformed("bad status line '\(line.prefix(80))'") }
        return HTTP1ResponseHead(status: status, reason: pieces.count > 2 ? String(pieces[2]) : "", minorVersion: minor, fields: fields)
    }

    static func version(_ text: Substring) -> Int? {
        guard text.count == 8, text.hasPrefix("HTTP/1."), let minor = text.last?.wholeNumberValue else { return nil }
        return minor
    }

    static func fields(_ lines: ArraySlice<Substring>) throws(HTTP1Error) -> [HTTP1Field] {
        var fields: [HTTP1Field] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("a header field has no colon") }
            let name = line[..<colon]
            guard !name.isEmpty, name.utf8.allSatisfy(isToken) else {
                throw .malformed("bad header field name '\(name.prefix(40))'")
            }
            fields.append(HTTP1Field(name: String(name), value: line[line.index(after: colon)...].trimmingBlanks()))
        }
        return fields
    }

    static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    // MARK: Body framing

    private enum Framing { case none, length(Int), chunked, untilClose }

    /// RFC 9112 §6: Transfer-Encoding (chunked last) over Content-Length; both at once, or a
    /// request coding other than chunked, is refused (a proxy must not guess where it ends).
    private static func framing(_ fields: [HTTP1Field], isRequest: Bool) throws(HTTP1Error) -> Framing {
        let codings = HTTP1Fields.tokens(fields, "transfer-encoding")
        let lengths = HTTP1Fields.values(fields, "content-length").flatMap { $0.split(separator: ",") }.map { $0.trimmingBlanks() }
        if !codings.isEmpty {
            guard lengths.isEmpty else { throw .malformed("both Transfer-Encoding and Content-Length") }
            if codings.last == "chunked" { return .chunked }
            if isRequest { throw .malformed("a request body's transfer coding is not chunked") }
            return .untilClose
        }
        guard let first = lengths.first else { return isRequest ? .none : .untilClose }
        guard lengths.allSatisfy({ $0 == first }), first.count <= 18, first.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int(first)
        else { throw .malformed("bad Content-Length") }
        return .length(n)
    }

    private mutating func startBody(request head: HTTP1RequestHead, _ parts: inout [HTTP1Part]) throws(HTTP1Error) {
        switch try Self.framing(head.fields, isRequest: true) {
        case .none, .length(0): finishMessage(&parts)
        case .length(let n): state = .fixed(remaining: n)
        case .chunked: state = .chunkLine
        case .untilClose: state = .untilClose
        }
        if head.asksToLeaveHTTP1 { pauseAfterMessage = true }
        if state == .head, pauseAfterMessage {
            pauseAfterMessage = false
            state = .awaitingAnswer
        }
    }

    private var pauseAfterMessage = false

    private mutating func startBody(response head: HTTP1ResponseHead, _ parts: inout [HTTP1Part]) throws(HTTP1Error) {
        guard let method = methods.first else { throw .malformed("a response that no request asked for") }
        if head.isInterim {
            parts.append(.end)
            return
        }
        methods.removeFirst()
        if head.status == 101 || (method == "CONNECT" && (200..<300).contains(head.status)) {
            parts.append(.end)
            state = .leftHTTP
            return
        }
        if method == "HEAD" || head.status == 204 || head.status == 304 {
            finishMessage(&parts)
            return
        }
        switch try Self.framing(head.fields, isRequest: false) {
        case .none, .length(0): finishMessage(&parts)
        case .length(let n): state = .fixed(remaining: n)
        case .chunked: state = .chunkLine
        case .untilClose: state = .untilClose
        }
    }

    private mutating func finishMessage(_ parts: inout [HTTP1Part]) {
        parts.append(.end)
        messages += 1
        framingBytes = 0
        if pauseAfterMessage {
            pauseAfterMessage = false
            state = .awaitingAnswer
        } else {
            state = .head
        }
    }
}
