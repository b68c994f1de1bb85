import NIOCore

/// One message of the Kubernetes WebSocket channel protocol (`v4.channel.k8s.io`,
/// `v5.channel.k8s.io`): a channel number and its payload. On the wire: `[channel][payload]`.
public struct ChannelMessage: Sendable, Hashable {
    public var channel: UInt8
    public var payload: ByteBuffer

    public init(channel: UInt8, payload: ByteBuffer) {
        self.channel = channel
        self.payload = payload
    }

    /// v5 only: `[255, channel]` half-closes `channel` (stdin EOF for exec).
    public static func close(channel: UInt8) -> ChannelMessage {
        ChannelMessage(channel: 255, payload: ByteBuffer(bytes: [channel]))
    }
}

/// The port-forward variant of the channel protocol, for one port: data on channel 0, errors on
/// channel 1, and each channel's first message is the port as little-endian UInt16, which is
/// consumed and checked here. A state machine without I/O.
struct PortForwardProtocol {
    enum Action: Equatable {
        /// Bytes from the pod's port.
        case deliver(ByteBuffer)
        /// Text on the error channel: the forward failed.
        case error(String)
        /// Nothing to hand on (a header was consumed, or an empty message).
        case none
        /// The server broke the protocol.
        case violation(String)
    }

    static let dataChannel: UInt8 = 0
    static let errorChannel: UInt8 = 1

    let port: UInt16
    private(set) var dataHeaderSeen = false
    private(set) var errorHeaderSeen = false

    init(port: UInt16) {
        self.port = port
    }

    mutating func receive(_ message: ChannelMessage) -> Action {
        var payload = message.payload
        switch message.channel {
        case Self.dataChannel:
            if !dataHeaderSeen {
                if let violation = consumeHeader(&payload, channel: "data") { return .violation(violation) }
                dataHeaderSeen = true
            }
            return payload.readableBytes > 0 ? .deliver(payload) : .none
        case Self.errorChannel:
            if !errorHeaderSeen {
                if let violation = consumeHeader(&payload, channel: "error") { return .violation(violation) }
                errorHeaderSeen = true
            }
            let text = payload.readString(length: payload.readableBytes) ?? ""
            return text.isEmpty ? .none : .error(text)
        default:
            return .violation("port-forward message on unknown channel \(message.channel)")
        }
    }

    private func consumeHeader(_ payload: inout ByteBuffer, channel: String) -> String? {
        guard let announced = payload.readInteger(endianness: .little, as: UInt16.self) else {
            return "the first \(channel) message is \(payload.readableBytes) bytes, expected the 2-byte port"
        }
        return announced == port ? nil : "the \(channel) channel announced port \(announced) instead of \(port)"
    }

    /// Outbound bytes for the pod's port.
    static func dataMessage(_ bytes: ByteBuffer) -> ChannelMessage {
        ChannelMessage(channel: dataChannel, payload: bytes)
    }
}
