import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The Kubernetes channel protocol over WebSocket (`v4.channel.k8s.io` and friends): every
/// message is `[channel byte][payload]`. This is the framing side, without I/O: reassembling
/// fragmented client messages and building server frames.
enum ChannelProtocol {
    /// The subprotocols a client offers, in its order of preference (one header with commas or
    /// several headers).
    static func offered(_ headers: HTTPHeaders) -> [String] {
        headers[canonicalForm: "sec-websocket-protocol"].map { String($0).trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// The first offered subprotocol the server supports, as the kubelet chooses; `.some(nil)` when
    /// the client offered none (the protocol's oldest form, answered without the header), nil
    /// when it offered only unsupported ones.
    static func choose(offered: [String], supported: [String]) -> String?? {
        if offered.isEmpty { return .some(nil) }
        for candidate in offered where supported.contains(candidate) { return .some(candidate) }
        return nil
    }

    /// A server message on `channel`: the channel byte travels as the frame's extension data, so
    /// the payload is written as it is, without a copy.
    static func frame(channel: UInt8, payload: ByteBuffer, allocator: ByteBufferAllocator) -> WebSocketFrame {
        var prefix = allocator.buffer(capacity: 1)
        prefix.writeInteger(channel)
        return WebSocketFrame(fin: true, opcode: .binary, data: payload, extensionData: prefix)
    }

    /// The close frame the server ends a session with (1000: normal closure).
    static func closeFrame(allocator: ByteBufferAllocator, code: WebSocketErrorCode = .normalClosure) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: code)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }
}

/// Turns the client's WebSocket frames into channel messages. A message may arrive fragmented
/// (Go's WebSocket writer splits large ones into continuation frames); only its first byte
/// names the channel, and every later fragment belongs to the same channel.
struct ChannelMessageReader {
    enum Event: Equatable {
        /// Payload for a channel (a fragment of a message; may be empty).
        case data(channel: UInt8, ByteBuffer)
        case ping(ByteBuffer)
        /// The client closes the WebSocket.
        case close
        /// The client broke the protocol; the session should end.
        case violation(String)
    }

    private var inMessage = false
    private var channel: UInt8?

    mutating func receive(opcode: WebSocketOpcode, fin: Bool, payload: ByteBuffer) -> Event? {
        switch opcode {
        case .binary, .text:
            if inMessage { return .violation("a WebSocket message started before the previous one ended") }
            channel = nil
            return fragment(fin: fin, payload: payload)
        case .continuation:
            guard inMessage else { return .violation("a WebSocket continuation frame arrived outside a message") }
            return fragment(fin: fin, payload: payload)
        case .ping:
            return .ping(payload)
        case .pong:
            return nil
        case .connectionClose:
            return .close
        default:
            return .violation("unknown WebSocket opcode \(opcode)")
        }
    }

    private mutating func fragment(fin: Bool, payload: ByteBuffer) -> Event? {
        inMessage = !fin
        var payload = payload
        if channel == nil {
            guard let first = payload.readInteger(as: UInt8.self) else { return nil }
            channel = first
        }
        return .data(channel: channel!, payload)
    }
}
