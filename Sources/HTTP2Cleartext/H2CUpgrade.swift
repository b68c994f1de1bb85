import Foundation
import NIOCore
import NIOHPACK

/// An HTTP/1.1 request with `Upgrade: h2c` (RFC 7540 §3.2), read whole, and what an HTTP/2
/// server needs to take it over: the 101 answer, and the frames the client would have sent had it
/// begun with HTTP/2 (its HTTP2-Settings as a SETTINGS frame, the request as stream 1).
public struct H2CUpgradeRequest: Sendable {
    public var method: String
    public var target: String
    public var headers: [(name: String, value: String)]
    public var body: ByteBuffer

    public init(method: String, target: String, headers: [(name: String, value: String)], body: ByteBuffer) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
    }

    /// Whether an HTTP/1.1 request asks for h2c: `Upgrade` names h2c and exactly one
    /// `HTTP2-Settings` field is present (a server must not upgrade otherwise).
    public static func asksForH2C(headers: [(name: String, value: String)]) -> Bool {
        let upgrade = headers.filter { $0.name.lowercased() == "upgrade" }
            .flatMap { $0.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } }
        return upgrade.contains("h2c") && headers.filter { $0.name.lowercased() == "http2-settings" }.count == 1
    }

    /// The 101 answer that switches the connection to HTTP/2.
    public static let switchingProtocols = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

    /// The request's fields as HTTP/2 sends them: pseudo-fields first (`:authority` from Host),
    /// names in lower case, without the fields that only mean something to one HTTP/1.1 hop.
    public var http2Headers: HPACKHeaders {
        var fields = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        let host = fields.first { $0.name == "host" }?.value
        let connectionOptions = Set(fields.filter { $0.name == "connection" }
            .flatMap { $0.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } })
        let hopByHop: Set<String> = ["connection", "upgrade", "http2-settings", "keep-alive", "proxy-connection", "transfer-encoding", "host"]
        fields.removeAll { hopByHop.contains($0.name) || connectionOptions.contains($0.name) || ($0.name == "te" && $0.value.lowercased() != "trailers") }
        var result = HPACKHeaders()
        // Not indexed: the server's HPACK decoder must stay in step with the client's encoder,
        // which never saw these fields.
        result.add(name: ":method", value: method, indexing: .nonIndexable)
        result.add(name: ":scheme", value: "http", indexing: .nonIndexable)
        result.add(name: ":path", value: target, indexing: .nonIndexable)
        if let host { result.add(name: ":authority", value: host, indexing: .nonIndexable) }
        for field in fields { result.add(name: field.name, value: field.value, indexing: .nonIndexable) }
        return result
    }

    /// The SETTINGS payload of the `HTTP2-Settings` field (base64url, RFC 7540 §3.2.1).
    public func settingsPayload() throws -> [UInt8] {
        guard let field = headers.first(where: { $0.name.lowercased() == "http2-settings" }) else { throw H2CUpgradeError.noSettings }
        var text = field.value.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let data = Data(base64Encoded: text), data.count % 6 == 0 else { throw H2CUpgradeError.badSettings }
        return Array(data)
    }

    /// The frames, after the client's preface, that make an HTTP/2 server see this request as
    /// if it had come over HTTP/2: SETTINGS (the HTTP2-Settings), HEADERS and DATA on stream 1.
    public func prelude(allocator: ByteBufferAllocator) throws -> ByteBuffer {
        // The connection's first window and the peer's smallest frame size bound what fits.
        guard body.readableBytes <= 65_535 else { throw H2CUpgradeError.bodyTooLarge }
        var buffer = allocator.buffer(capacity: 256 + body.readableBytes)
        let settings = try settingsPayload()
        Self.writeFrameHeader(length: settings.count, type: 0x4, flags: 0, stream: 0, to: &buffer)
        buffer.writeBytes(settings)

        var encoder = HPACKEncoder(allocator: allocator, useHuffmanEncoding: false)
        var block = allocator.buffer(capacity: 256)
        try encoder.encode(headers: http2Headers, to: &block)
        guard block.readableBytes <= 16_384 else { throw H2CUpgradeError.headersTooLarge }
        let endHeaders: UInt8 = 0x4, endStream: UInt8 = 0x1
        Self.writeFrameHeader(length: block.readableBytes, type: 0x1, flags: endHeaders | (body.readableBytes == 0 ? endStream : 0), stream: 1, to: &buffer)
        buffer.writeBuffer(&block)

        var rest = body
        while rest.readableBytes > 0 {
            var chunk = rest.readSlice(length: min(rest.readableBytes, 16_384))!
            Self.writeFrameHeader(length: chunk.readableBytes, type: 0x0, flags: rest.readableBytes == 0 ? endStream : 0, stream: 1, to: &buffer)
            buffer.writeBuffer(&chunk)
        }
        return buffer
    }

    static func writeFrameHeader(length: Int, type: UInt8, flags: UInt8, stream: UInt32, to buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(truncatingIfNeeded: length >> 16))
        buffer.writeInteger(UInt16(truncatingIfNeeded: length))
        buffer.writeInteger(type)
        buffer.writeInteger(flags)
        buffer.writeInteger(stream)
    }
}

/// Why an h2c upgrade request cannot be taken over; the server answers it with 400 and closes.
public enum H2CUpgradeError: Error, CustomStringConvertible {
    case noSettings, badSettings, bodyTooLarge, headersTooLarge

    public var description: String {
        switch self {
        case .noSettings: return "the h2c upgrade request has no HTTP2-Settings field; send exactly one"
        case .badSettings: return "the h2c upgrade request's HTTP2-Settings is not base64url of SETTINGS entries; fix the client's field"
        case .bodyTooLarge: return "the h2c upgrade request's body is over 64 KiB; send large bodies after the upgrade or with prior knowledge"
        case .headersTooLarge: return "the h2c upgrade request's fields are over 16 KiB; send fewer or shorter fields"
        }
    }

    /// The HTTP/1.1 answer that refuses the upgrade.
    public var badRequest: String {
        let text = description + "\n"
        return "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n" + text
    }
}
