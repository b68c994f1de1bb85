/// Turns frames into SPDY/3.1 bytes for one direction of one connection.
///
/// It owns that direction's deflate context, so frames must be encoded in the order they are
/// sent, and one encoder serves exactly one connection.
public final class SPDYFrameEncoder {
    private let deflater: SPDYDeflater

    public init() throws(SPDYError) {
        deflater = try SPDYDeflater()
    }

    /// The wire bytes of `frame`.
    public func encode(_ frame: SPDYFrame) throws(SPDYError) -> [UInt8] {
        var out: [UInt8] = []
        try encode(frame, into: &out)
        return out
    }

    /// Appends the wire bytes of `frame` to `out`.
    public func encode(_ frame: SPDYFrame, into out: inout [UInt8]) throws(SPDYError) {
        switch frame {
        case .data(let streamID, let fin, let payload):
            try checkID(streamID, allowZero: false)
            guard payload.count < (1 << 24) else { throw .unencodable("data payload over 16 MiB") }
            out.appendUInt32(streamID)
            out.append(fin ? 0x01 : 0)
            out.appendUInt24(UInt32(payload.count))
            out += payload
        case .synStream(let syn):
            try checkID(syn.streamID, allowZero: false)
            try checkID(syn.associatedStreamID, allowZero: true)
            guard syn.priority < 8 else { throw .unencodable("priority \(syn.priority) over 7") }
            var body: [UInt8] = []
            body.appendUInt32(syn.streamID)
            body.appendUInt32(syn.associatedStreamID)
            body.append(syn.priority << 5)
            body.append(syn.slot)
            body += try deflater.compress(syn.headers.serialized())
            try control(.synStream, flags: (syn.fin ? 0x01 : 0) | (syn.unidirectional ? 0x02 : 0), body, &out)
        case .synReply(let streamID, let fin, let headers):
            try checkID(streamID, allowZero: false)
            var body: [UInt8] = []
            body.appendUInt32(streamID)
            body += try deflater.compress(headers.serialized())
            try control(.synReply, flags: fin ? 0x01 : 0, body, &out)
        case .rstStream(let streamID, let status):
            try checkID(streamID, allowZero: false)
            var body: [UInt8] = []
            body.appendUInt32(streamID)
            body.appendUInt32(status.rawValue)
            try control(.rstStream, flags: 0, body, &out)
        case .settings(let clear, let entries):
            var body: [UInt8] = []
            body.appendUInt32(UInt32(entries.count))
            for entry in entries {
                guard entry.id < (1 << 24) else { throw .unencodable("setting id \(entry.id) over 24 bits") }
                body.append(entry.flags)
                body.appendUInt24(entry.id)
                body.appendUInt32(entry.value)
            }
            try control(.settings, flags: clear ? 0x01 : 0, body, &out)
        case .ping(let id):
            var body: [UInt8] = []
            body.appendUInt32(id)
            try control(.ping, flags: 0, body, &out)
        case .goAway(let lastGood, let status):
            try checkID(lastGood, allowZero: true)
            var body: [UInt8] = []
            body.appendUInt32(lastGood)
            body.appendUInt32(status.rawValue)
            try control(.goAway, flags: 0, body, &out)
        case .headers(let streamID, let fin, let headers):
            try checkID(streamID, allowZero: false)
            var body: [UInt8] = []
            body.appendUInt32(streamID)
            body += try deflater.compress(headers.serialized())
            try control(.headers, flags: fin ? 0x01 : 0, body, &out)
        case .windowUpdate(let streamID, let delta):
            try checkID(streamID, allowZero: true)
            guard delta >= 1, delta < (1 << 31) else { throw .unencodable("window delta \(delta) outside 1...2^31-1") }
            var body: [UInt8] = []
            body.appendUInt32(streamID)
            body.appendUInt32(delta)
            try control(.windowUpdate, flags: 0, body, &out)
        }
    }

    private func checkID(_ id: UInt32, allowZero: Bool) throws(SPDYError) {
        guard id < (1 << 31) else { throw .unencodable("stream id \(id) over 31 bits") }
        guard allowZero || id != 0 else { throw .unencodable("stream id 0") }
    }

    private func control(_ type: SPDYControlType, flags: UInt8, _ body: [UInt8], _ out: inout [UInt8]) throws(SPDYError) {
        guard body.count < (1 << 24) else { throw .unencodable("control frame over 16 MiB") }
        out.append(0x80)  // control bit, version 3 (high byte 0)
        out.append(UInt8(SPDYFrameDecoder.version))
        out.append(UInt8(type.rawValue >> 8))
        out.append(UInt8(type.rawValue & 0xff))
        out.append(flags)
        out.appendUInt24(UInt32(body.count))
        out += body
    }
}
