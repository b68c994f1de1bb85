/// Turns SPDY/3.1 bytes from one direction of one connection into frames.
///
/// Feed bytes in any chunks with `feed(_:)` and pull frames with `nextFrame()`. It owns that
/// direction's inflate context. Every error is fatal for the connection: after one, every
/// call throws it again. Unknown control frame types are skipped, as the spec requires.
/// Memory is bounded by the bytes fed plus the header-block cap; length fields alone never
/// cause an allocation.
public final class SPDYFrameDecoder {
    /// The only SPDY version this codec speaks.
    public static let version: UInt16 = 3
    /// The largest frame the 24-bit length field can describe.
    public static let protocolMaxFrameLength = (1 << 24) - 1

    /// Frames whose length field exceeds this are rejected from their 8-byte header.
    public let maxFrameLength: Int
    /// Inflated header blocks larger than this are rejected.
    public let maxHeaderBlockLength: Int

    private let inflater: SPDYInflater
    private var buffer: [UInt8] = []
    private var readIndex = 0
    private var skipRemaining = 0
    private var failure: SPDYError?

    public init(maxFrameLength: Int = SPDYFrameDecoder.protocolMaxFrameLength,
                maxHeaderBlockLength: Int = 1 << 20) throws(SPDYError) {
        self.maxFrameLength = maxFrameLength
        self.maxHeaderBlockLength = maxHeaderBlockLength
        inflater = try SPDYInflater()
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Appends received bytes.
    public func feed(_ bytes: some Sequence<UInt8>) {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeFirst(readIndex)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or nil when more bytes are needed.
    public func nextFrame() throws(SPDYError) -> SPDYFrame? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            failure = error
            throw error
        }
    }

    /// Feeds `bytes` and returns every frame now complete.
    public func decode(_ bytes: some Sequence<UInt8>) throws(SPDYError) -> [SPDYFrame] {
        feed(bytes)
        var frames: [SPDYFrame] = []
        while let frame = try nextFrame() { frames.append(frame) }
        return frames
    }

    private func decodeNext() throws(SPDYError) -> SPDYFrame? {
        while true {
            if skipRemaining > 0 {
                let n = min(skipRemaining, bufferedByteCount)
                readIndex += n
                skipRemaining -= n
                if skipRemaining > 0 { return nil }
            }
            guard bufferedByteCount >= 8 else { return nil }
            let h = buffer[readIndex..<(readIndex + 8)]
            let b = Array(h)
            let length = Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
            let flags = b[4]
            guard length <= maxFrameLength else { throw .frameTooLarge(length: length, limit: maxFrameLength) }
            let isControl = b[0] & 0x80 != 0
            if isControl {
                let version = UInt16(b[0] & 0x7f) << 8 | UInt16(b[1])
                guard version == Self.version else { throw .unsupportedVersion(version) }
                let rawType = UInt16(b[2]) << 8 | UInt16(b[3])
                guard let type = SPDYControlType(rawValue: rawType) else {
                    readIndex += 8
                    skipRemaining = length
                    continue
                }
                guard bufferedByteCount >= 8 + length else { return nil }
                let body = buffer[(readIndex + 8)..<(readIndex + 8 + length)]
                readIndex += 8 + length
                return try parseControl(type, flags: flags, body: body)
            } else {
                let streamID = (UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])) & 0x7fff_ffff
                guard streamID != 0 else { throw .invalidFrame(type: 0, reason: "data frame on stream 0") }
                guard bufferedByteCount >= 8 + length else { return nil }
                let payload = Array(buffer[(readIndex + 8)..<(readIndex + 8 + length)])
                readIndex += 8 + length
                return .data(streamID: streamID, fin: flags & 0x01 != 0, payload: payload)
            }
        }
    }

    private func parseControl(_ type: SPDYControlType, flags: UInt8, body: ArraySlice<UInt8>) throws(SPDYError) -> SPDYFrame {
        var r = ByteReader(body)
        let fin = flags & 0x01 != 0
        func invalid(_ reason: String) -> SPDYError { .invalidFrame(type: type.rawValue, reason: reason) }
        func streamID(_ value: UInt32?) throws(SPDYError) -> UInt32 {
            guard let value else { throw invalid("too short") }
            let id = value & 0x7fff_ffff
            guard id != 0 else { throw invalid("stream id 0") }
            return id
        }
        switch type {
        case .synStream:
            guard body.count >= 10 else { throw invalid("length \(body.count) under 10") }
            let id = try streamID(r.readUInt32())
            let associated = r.readUInt32()! & 0x7fff_ffff
            let priority = r.readUInt8()! >> 5
            let slot = r.readUInt8()!
            let headers = try headerBlock(r.read(r.remaining)!)
            return .synStream(SPDYSynStream(streamID: id, associatedStreamID: associated, priority: priority, slot: slot,
                                            fin: fin, unidirectional: flags & 0x02 != 0, headers: headers))
        case .synReply, .headers:
            guard body.count >= 4 else { throw invalid("length \(body.count) under 4") }
            let id = try streamID(r.readUInt32())
            let headers = try headerBlock(r.read(r.remaining)!)
            return type == .synReply ? .synReply(streamID: id, fin: fin, headers: headers)
                : .headers(streamID: id, fin: fin, headers: headers)
        case .rstStream:
            guard body.count == 8 else { throw invalid("length \(body.count), not 8") }
            let id = try streamID(r.readUInt32())
            return .rstStream(streamID: id, status: SPDYStreamStatus(rawValue: r.readUInt32()!))
        case .settings:
            guard let count = r.readUInt32() else { throw invalid("length \(body.count) under 4") }
            guard Int(count) == r.remaining / 8, r.remaining % 8 == 0 else {
                throw invalid("\(count) entries do not fill length \(body.count)")
            }
            var entries: [SPDYSetting] = []
            entries.reserveCapacity(Int(count))
            for _ in 0..<count {
                let flagsAndID = r.readUInt32()!
                entries.append(SPDYSetting(flags: UInt8(flagsAndID >> 24), id: flagsAndID & 0xff_ffff, value: r.readUInt32()!))
            }
            return .settings(clearSettings: fin, entries: entries)
        case .ping:
            guard body.count == 4 else { throw invalid("length \(body.count), not 4") }
            return .ping(id: r.readUInt32()!)
        case .goAway:
            guard body.count == 8 else { throw invalid("length \(body.count), not 8") }
            let lastGood = r.readUInt32()! & 0x7fff_ffff
            return .goAway(lastGoodStreamID: lastGood, status: SPDYGoAwayStatus(rawValue: r.readUInt32()!))
        case .windowUpdate:
            guard body.count == 8 else { throw invalid("length \(body.count), not 8") }
            let id = r.readUInt32()! & 0x7fff_ffff
            let delta = r.readUInt32()! & 0x7fff_ffff
            guard delta != 0 else { throw invalid("window delta 0") }
            return .windowUpdate(streamID: id, delta: delta)
        }
    }

    private func headerBlock(_ compressed: ArraySlice<UInt8>) throws(SPDYError) -> SPDYHeaders {
        if compressed.isEmpty { return SPDYHeaders([]) }
        return try SPDYHeaders(parsing: inflater.decompress(compressed, limit: maxHeaderBlockLength))
    }
}
