/// Writes the wire form, compressing names (RFC 1035 §4.1.4) against every name suffix already
/// written, and cutting records that exceed a size limit.
struct DNSWriter {
    private(set) var bytes: [UInt8] = []
    /// Offsets of name suffixes already in `bytes`, keyed by their exact bytes: a pointer to
    /// another spelling would be legal DNS but would lose the case the name was written with.
    private var suffixOffsets: [[[UInt8]]: Int] = [:]

    init() {
        bytes.reserveCapacity(512)
    }

    mutating func write(_ message: DNSMessage, maxSize: Int) throws(DNSCodecError) {
        guard message.questions.count <= 0xFFFF,
              message.answers.count + message.authorities.count + message.additionals.count <= 0xFFFF
        else { throw .messageTooLarge }
        appendUInt16(message.header.id)
        appendUInt16(message.header.flags)
        appendUInt16(UInt16(message.questions.count))
        appendUInt16(0)
        appendUInt16(0)
        appendUInt16(0)
        for question in message.questions {
            try appendName(question.name, compress: true)
            appendUInt16(question.type.rawValue)
            appendUInt16(question.recordClass.rawValue)
        }
        // The OPT record must survive truncation, so its room is set aside before anything else.
        let opt = message.additionals.filter { $0.type == .opt }
        var optSize = 0
        for record in opt {
            var scratch = DNSWriter()
            try scratch.appendRecord(record)
            optSize += scratch.bytes.count
        }
        let limit = max(maxSize, 12) - optSize
        var truncated = false
        var counts = [0, 0, 0]
        let sections = [message.answers, message.authorities, message.additionals.filter { $0.type != .opt }]
        sectionLoop: for (index, records) in sections.enumerated() {
            for record in records {
                let mark = bytes.count
                try appendRecord(record)
                if bytes.count > limit {
                    bytes.removeSubrange(mark...)
                    suffixOffsets = suffixOffsets.filter { $0.value < mark }
                    truncated = true
                    break sectionLoop
                }
                counts[index] += 1
            }
        }
        for record in opt {
            try appendRecord(record)
            counts[2] += 1
        }
        guard bytes.count <= 65535 else { throw .messageTooLarge }
        setUInt16(UInt16(counts[0]), at: 6)
        setUInt16(UInt16(counts[1]), at: 8)
        setUInt16(UInt16(counts[2]), at: 10)
        if truncated {
            var header = message.header
            header.isTruncated = true
            setUInt16(header.flags, at: 2)
        }
    }

    mutating func appendRecord(_ record: ResourceRecord) throws(DNSCodecError) {
        try appendName(record.name, compress: true)
        appendUInt16(record.type.rawValue)
        appendUInt16(record.recordClass.rawValue)
        appendUInt32(record.ttl)
        let lengthOffset = bytes.count
        appendUInt16(0)
        switch record.data {
        case .a(let address):
            appendUInt32(address.value)
        case .aaaa(let address):
            bytes.append(contentsOf: address.bytes)
        case .cname(let name), .ptr(let name), .ns(let name):
            try appendName(name, compress: true)
        case .srv(let priority, let weight, let port, let target):
            appendUInt16(priority)
            appendUInt16(weight)
            appendUInt16(port)
            // RFC 2782: the target must not be compressed.
            try appendName(target, compress: false)
        case .txt(let strings):
            guard !strings.isEmpty else { throw .badRecordData(type: record.type.rawValue, offset: lengthOffset) }
            for string in strings {
                guard string.count <= 255 else { throw .badRecordData(type: record.type.rawValue, offset: lengthOffset) }
                bytes.append(UInt8(string.count))
                bytes.append(contentsOf: string)
            }
        case .soa(let soa):
            try appendName(soa.primaryServer, compress: true)
            try appendName(soa.responsibleMailbox, compress: true)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { appendUInt32(value) }
        case .opt(let data), .unknown(_, let data):
            bytes.append(contentsOf: data)
        }
        let length = bytes.count - lengthOffset - 2
        guard length <= 0xFFFF else { throw .messageTooLarge }
        setUInt16(UInt16(length), at: lengthOffset)
    }

    mutating func appendName(_ name: DNSName, compress: Bool) throws(DNSCodecError) {
        guard name.wireLength <= DNSName.maxWireLength else { throw .nameTooLong(name.wireLength) }
        for index in name.labels.indices {
            let suffix = Array(name.labels[index...])
            if compress, let target = suffixOffsets[suffix] {
                appendUInt16(0xC000 | UInt16(target))
                return
            }
            // Pointers hold 14 bits, so only suffixes in the first 16 KiB can be targets.
            if bytes.count <= 0x3FFF, suffixOffsets[suffix] == nil {
                suffixOffsets[suffix] = bytes.count
            }
            let label = name.labels[index]
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= DNSName.maxLabelLength else { throw .labelTooLong(label.count) }
            bytes.append(UInt8(label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(0)
    }

    private mutating func appendUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    private mutating func appendUInt32(_ value: UInt32) {
        appendUInt16(UInt16(value >> 16))
        appendUInt16(UInt16(truncatingIfNeeded: value))
    }

    private mutating func setUInt16(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}
