import NetworkAddress

/// Reads the wire form with a bounds check on every byte. Compression pointers must point strictly
/// backwards, which makes loops impossible, and a name may follow at most `maxPointerHops`
/// pointers, which bounds the work per name however the bytes were crafted.
struct DNSReader {
    static let maxPointerHops = 64

    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func readMessage() throws(DNSCodecError) -> DNSMessage {
        let id = try readUInt16()
        let flags = try readUInt16()
        let questionCount = Int(try readUInt16())
        let answerCount = Int(try readUInt16())
        let authorityCount = Int(try readUInt16())
        let additionalCount = Int(try readUInt16())
        // Each question takes at least 5 bytes and each record at least 11, so a count larger than
        // the bytes left is a lie; checking first keeps a hostile count from reserving memory.
        let remaining = bytes.count - offset
        guard questionCount * 5 + (answerCount + authorityCount + additionalCount) * 11 <= remaining else {
            throw .truncated(offset: bytes.count)
        }
        var message = DNSMessage(header: DNSHeader(id: id, flags: flags))
        for _ in 0..<questionCount {
            let name = try readName()
            let type = DNSRecordType(rawValue: try readUInt16())
            let recordClass = DNSClass(rawValue: try readUInt16())
            message.questions.append(DNSQuestion(name: name, type: type, recordClass: recordClass))
        }
        for _ in 0..<answerCount { message.answers.append(try readRecord()) }
        for _ in 0..<authorityCount { message.authorities.append(try readRecord()) }
        for _ in 0..<additionalCount { message.additionals.append(try readRecord()) }
        guard offset == bytes.count else { throw .trailingBytes(count: bytes.count - offset) }
        return message
    }

    mutating func readRecord() throws(DNSCodecError) -> ResourceRecord {
        let name = try readName()
        let type = DNSRecordType(rawValue: try readUInt16())
        let recordClass = DNSClass(rawValue: try readUInt16())
        let ttl = try readUInt32()
        let length = Int(try readUInt16())
        let start = offset
        let end = start + length
        guard end <= bytes.count else { throw .truncated(offset: bytes.count) }
        let data = try readRecordData(type: type, end: end)
        guard offset == end else { throw .badRecordData(type: type.rawValue, offset: start) }
        return ResourceRecord(name: name, recordClass: recordClass, ttl: ttl, data: data)
    }

    private mutating func readRecordData(type: DNSRecordType, end: Int) throws(DNSCodecError) -> RecordData {
        let start = offset
        // Names inside record data may point anywhere earlier in the message, but must not run
        // past the record's own end.
        func bounded<T>(_ read: (inout DNSReader) throws(DNSCodecError) -> T) throws(DNSCodecError) -> T {
            let value = try read(&self)
            guard offset <= end else { throw .badRecordData(type: type.rawValue, offset: start) }
            return value
        }
        switch type {
        case .a:
            guard end - start == 4 else { throw .badRecordData(type: type.rawValue, offset: start) }
            return .a(IPv4Address(try readUInt32()))
        case .aaaa:
            guard end - start == 16 else { throw .badRecordData(type: type.rawValue, offset: start) }
            guard let address = IPv6Address(bytes: try readBytes(16)) else {
                throw .badRecordData(type: type.rawValue, offset: start)
            }
            return .aaaa(address)
        case .cname:
            return .cname(try bounded { reader throws(DNSCodecError) in try reader.readName() })
        case .ptr:
            return .ptr(try bounded { reader throws(DNSCodecError) in try reader.readName() })
        case .ns:
            return .ns(try bounded { reader throws(DNSCodecError) in try reader.readName() })
        case .srv:
            guard end - start >= 7 else { throw .badRecordData(type: type.rawValue, offset: start) }
            let priority = try readUInt16()
            let weight = try readUInt16()
            let port = try readUInt16()
            let target = try bounded { reader throws(DNSCodecError) in try reader.readName() }
            return .srv(priority: priority, weight: weight, port: port, target: target)
        case .txt:
            var strings: [[UInt8]] = []
            while offset < end {
                let length = Int(try readUInt8())
                guard offset + length <= end else { throw .badRecordData(type: type.rawValue, offset: start) }
                strings.append(try readBytes(length))
            }
            guard !strings.isEmpty else { throw .badRecordData(type: type.rawValue, offset: start) }
            return .txt(strings)
        case .soa:
            let primary = try bounded { reader throws(DNSCodecError) in try reader.readName() }
            let mailbox = try bounded { reader throws(DNSCodecError) in try reader.readName() }
            guard end - offset == 20 else { throw .badRecordData(type: type.rawValue, offset: start) }
            return .soa(SOAData(
                primaryServer: primary, responsibleMailbox: mailbox, serial: try readUInt32(),
                refresh: try readUInt32(), retry: try readUInt32(), expire: try readUInt32(), minimum: try readUInt32()
            ))
        case .opt:
            return .opt(try readBytes(end - start))
        default:
            return .unknown(type: type, bytes: try readBytes(end - start))
        }
    }

    /// Reads a possibly compressed name and leaves `offset` after its in-place part.
    mutating func readName() throws(DNSCodecError) -> DNSName {
        var labels: [[UInt8]] = []
        var wireLength = 1
        var position = offset
        var resumeAt: Int?
        var hops = 0
        // Every pointer must land strictly before the lowest position read so far.
        var lowestPointerTarget = offset
        while true {
            guard position < bytes.count else { throw .truncated(offset: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    offset = resumeAt ?? position + 1
                    return DNSName(unchecked: labels)
                }
                let labelEnd = position + 1 + Int(length)
                guard labelEnd <= bytes.count else { throw .truncated(offset: bytes.count) }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maxWireLength else { throw .nameTooLong(wireLength) }
                labels.append(Array(bytes[(position + 1)..<labelEnd]))
                position = labelEnd
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated(offset: bytes.count) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                hops += 1
                guard target < lowestPointerTarget, hops <= Self.maxPointerHops else {
                    throw .badPointer(offset: position)
                }
                if resumeAt == nil { resumeAt = position + 2 }
                lowestPointerTarget = target
                position = target
            default:
                throw .unsupportedLabelType(offset: position)
            }
        }
    }

    mutating func readUInt8() throws(DNSCodecError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt16() throws(DNSCodecError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func readUInt32() throws(DNSCodecError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 4 }
        return (offset..<offset + 4).reduce(0) { $0 << 8 | UInt32(bytes[$1]) }
    }

    mutating func readBytes(_ count: Int) throws(DNSCodecError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }
}
