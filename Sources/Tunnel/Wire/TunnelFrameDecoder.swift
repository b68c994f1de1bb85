import NIOCore
import NetworkAddress

/// Parses frames from bytes that arrive in arbitrary chunks. It is a network input parser: the
/// header is checked before the payload is awaited, so a peer can never make this side buffer
/// more than one header plus `maxFrameSize` bytes, and every malformed frame is a typed error.
public struct TunnelFrameDecoder: Sendable {
    /// The largest payload this side accepts (what it announced in its HELLO).
    public var maxFrameSize: UInt32

    /// The DATA frame being delivered in pieces by `nextPiece`: its stream and the payload
    /// bytes still to come.
    private var dataInProgress: (stream: TunnelStreamID, remaining: Int)?

    public init(maxFrameSize: UInt32) {
        self.maxFrameSize = maxFrameSize
    }

    /// Like `next`, but a DATA frame's payload is handed out as it arrives: each call returns
    /// `.data` with whatever part of it is in `buffer` (never empty). A DATA frame's pieces mean
    /// the same as the whole (the receiver counts bytes, not frames), and the caller never has
    /// to gather a large frame from several reads: the copy that gathering costs was a visible
    /// share of the tunnel's CPU. Other frames are returned whole, as by `next`.
    public mutating func nextPiece(from buffer: inout ByteBuffer) throws(TunnelProtocolError) -> TunnelFrame? {
        if let (stream, remaining) = dataInProgress {
            guard buffer.readableBytes > 0 else { return nil }
            let take = min(remaining, buffer.readableBytes)
            dataInProgress = take == remaining ? nil : (stream, remaining - take)
            return .data(stream: stream, buffer.readSlice(length: take)!)
        }
        guard let header = try header(of: buffer) else { return nil }
        guard header.type == .data, buffer.readableBytes < TunnelWire.headerSize + Int(header.length) else {
            // Not a DATA frame, or one that is complete already: the whole-frame path.
            return try next(from: &buffer)
        }
        try Self.check(header)
        let (length, stream) = (header.length, header.stream)
        let available = buffer.readableBytes - TunnelWire.headerSize
        guard available > 0 else { return nil }  // wait for some payload before starting
        buffer.moveReaderIndex(forwardBy: TunnelWire.headerSize)
        dataInProgress = (stream, Int(length) - available)
        return .data(stream: stream, buffer.readSlice(length: available)!)
    }

    /// Removes and returns the next complete frame from `buffer`, or nil when more bytes are needed.
    /// DATA and DATAGRAM payloads are slices of `buffer` (no copy).
    public func next(from buffer: inout ByteBuffer) throws(TunnelProtocolError) -> TunnelFrame? {
        guard let header = try header(of: buffer) else { return nil }
        guard buffer.readableBytes >= TunnelWire.headerSize + Int(header.length) else { return nil }
        buffer.moveReaderIndex(forwardBy: TunnelWire.headerSize)
        var payload = buffer.readSlice(length: Int(header.length))!
        try Self.check(header)
        return try Self.parse(type: header.type, flags: header.flags, stream: header.stream, payload: &payload)
    }

    private struct Header {
        var length: UInt32
        var type: TunnelWire.FrameType
        var flags: UInt8
        var stream: TunnelStreamID
    }

    /// The header at the buffer's start (nil until all of it is there); its length and type are
    /// checked before any payload is awaited.
    private func header(of buffer: ByteBuffer) throws(TunnelProtocolError) -> Header? {
        let start = buffer.readerIndex
        guard let length = buffer.getInteger(at: start, as: UInt32.self),
              let typeCode = buffer.getInteger(at: start + 4, as: UInt8.self),
              let flags = buffer.getInteger(at: start + 5, as: UInt8.self),
              let stream = buffer.getInteger(at: start + 6, as: UInt32.self)
        else { return nil }
        guard length <= maxFrameSize else { throw .frameTooLarge(length: length, limit: maxFrameSize) }
        guard let type = TunnelWire.FrameType(rawValue: typeCode) else { throw .unknownFrameType(typeCode) }
        return Header(length: length, type: type, flags: flags, stream: stream)
    }

    /// The header's flags and stream id against its type.
    private static func check(_ header: Header) throws(TunnelProtocolError) {
        let (type, flags, stream) = (header.type, header.flags, header.stream)
        func malformed(_ reason: String) -> TunnelProtocolError { .malformedFrame(type: type.rawValue, reason: reason) }
        let allowedFlags: UInt8 = type == .open ? TunnelWire.flagFIN : 0
        guard flags & ~allowedFlags == 0 else { throw malformed("unknown flags \(flags)") }
        let connectionFrame = type == .hello || type == .ping || type == .pong || type == .goAway
        if connectionFrame {
            guard stream == 0 else { throw malformed("a connection frame on stream \(stream)") }
        } else if type != .windowUpdate {
            guard stream != 0 else { throw malformed("a stream frame on stream 0") }
        }
    }

    private static func parse(type: TunnelWire.FrameType, flags: UInt8, stream: TunnelStreamID,
                              payload: inout ByteBuffer) throws(TunnelProtocolError) -> TunnelFrame {
        func malformed(_ reason: String) -> TunnelProtocolError { .malformedFrame(type: type.rawValue, reason: reason) }
        func exact(_ n: Int) throws(TunnelProtocolError) {
            guard payload.readableBytes == n else { throw malformed("payload of \(payload.readableBytes) bytes, expected \(n)") }
        }
        func window(_ value: UInt32) throws(TunnelProtocolError) -> UInt32 {
            guard Int(value) <= TunnelWire.maximumWindow else { throw malformed("window \(value) above 2^31-1") }
            return value
        }

        switch type {
        case .hello:
            try exact(14)
            let magic = payload.readInteger(as: UInt32.self)!
            guard magic == TunnelWire.magic else { throw .notATunnel }
            let version = payload.readInteger(as: UInt16.self)!
            let maxFrame = payload.readInteger(as: UInt32.self)!
            let connectionWindow = try window(payload.readInteger(as: UInt32.self)!)
            guard (TunnelWire.minimumMaxFrameSize...TunnelWire.maximumMaxFrameSize).contains(maxFrame) else {
                throw malformed("max frame size \(maxFrame) outside 16 KiB...16 MiB")
            }
            return .hello(TunnelHello(version: version, maxFrameSize: maxFrame, connectionWindow: connectionWindow))
        case .open:
            guard let transportCode = payload.readInteger(as: UInt8.self),
                  let family = payload.readInteger(as: UInt8.self)
            else { throw malformed("truncated") }
            guard let transport = TunnelFlow.Transport(rawValue: transportCode) else { throw malformed("transport \(transportCode)") }
            guard family == 4 || family == 6 else { throw malformed("address family \(family)") }
            let addressSize = family == 4 ? 4 : 16
            guard payload.readableBytes >= 2 * (addressSize + 2) + 8 else { throw malformed("truncated") }
            let source = readEndpoint(family: family, from: &payload)
            let destination = readEndpoint(family: family, from: &payload)
            let streamWindow = try window(payload.readInteger(as: UInt32.self)!)
            let timeout = payload.readInteger(as: UInt32.self)!
            let flow = TunnelFlow(transport: transport, source: source, destination: destination)
            return .open(stream: stream, TunnelOpen(flow: flow, window: streamWindow, dialTimeoutMilliseconds: timeout,
                                                    initialData: payload, fin: flags & TunnelWire.flagFIN != 0))
        case .openOK:
            try exact(4)
            return .openOK(stream: stream, window: try window(payload.readInteger(as: UInt32.self)!))
        case .openFailed:
            guard let code = payload.readInteger(as: UInt8.self) else { throw malformed("truncated") }
            guard let reason = TunnelOpenFailure(rawValue: code) else { throw malformed("failure reason \(code)") }
            return .openFailed(stream: stream, reason: reason, message: payload.readString(length: payload.readableBytes) ?? "")
        case .data:
            return .data(stream: stream, payload)
        case .windowUpdate:
            try exact(4)
            let increment = payload.readInteger(as: UInt32.self)!
            guard increment > 0, Int(increment) <= TunnelWire.maximumWindow else { throw malformed("increment \(increment)") }
            return .windowUpdate(stream: stream, increment: increment)
        case .fin:
            try exact(0)
            return .fin(stream: stream)
        case .reset:
            try exact(1)
            let code = payload.readInteger(as: UInt8.self)!
            guard let reason = TunnelResetReason(rawValue: code) else { throw malformed("reset reason \(code)") }
            return .reset(stream: stream, reason: reason)
        case .ping:
            try exact(8)
            return .ping(payload.readInteger(as: UInt64.self)!)
        case .pong:
            try exact(8)
            return .pong(payload.readInteger(as: UInt64.self)!)
        case .goAway:
            guard let last = payload.readInteger(as: UInt32.self), let code = payload.readInteger(as: UInt8.self) else {
                throw malformed("truncated")
            }
            guard let goAwayCode = TunnelGoAwayCode(rawValue: code) else { throw malformed("code \(code)") }
            return .goAway(lastStreamID: last, code: goAwayCode, message: payload.readString(length: payload.readableBytes) ?? "")
        case .datagram:
            return .datagram(stream: stream, payload)
        }
    }

    private static func readEndpoint(family: UInt8, from payload: inout ByteBuffer) -> TunnelEndpoint {
        let address: IPAddress
        if family == 4 {
            address = .v4(IPv4Address(payload.readInteger(as: UInt32.self)!))
        } else {
            let high = payload.readInteger(as: UInt64.self)!
            address = .v6(IPv6Address(high: high, low: payload.readInteger(as: UInt64.self)!))
        }
        return TunnelEndpoint(address: address, port: payload.readInteger(as: UInt16.self)!)
    }
}
