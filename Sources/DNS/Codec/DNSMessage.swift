/// A whole DNS message: header and the four sections (RFC 1035 §4.1). The OPT pseudo-record,
/// when present, stays in `additionals`; `edns` reads it.
public struct DNSMessage: Sendable, Hashable {
    public var header: DNSHeader
    public var questions: [DNSQuestion]
    public var answers: [ResourceRecord]
    public var authorities: [ResourceRecord]
    public var additionals: [ResourceRecord]

    public init(
        header: DNSHeader, questions: [DNSQuestion] = [], answers: [ResourceRecord] = [],
        authorities: [ResourceRecord] = [], additionals: [ResourceRecord] = []
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
    }

    /// Reads a message from its wire form; never traps, whatever the bytes.
    public init(bytes: some Collection<UInt8>) throws(DNSCodecError) {
        var reader = DNSReader(Array(bytes))
        self = try reader.readMessage()
    }

    /// The wire form. With `maxSize`, records that do not fit are left out and the TC bit set;
    /// the header, the questions and the OPT record always stay (RFC 2181 §9, RFC 6891 §7).
    public func serialized(maxSize: Int = 65535) throws(DNSCodecError) -> [UInt8] {
        var writer = DNSWriter()
        try writer.write(self, maxSize: maxSize)
        return writer.bytes
    }

    /// The EDNS parameters of the OPT record, if the message carries one.
    public var edns: EDNS? {
        guard let record = additionals.first(where: { $0.type == .opt }), case .opt(let options) = record.data else {
            return nil
        }
        return EDNS(
            udpPayloadSize: record.recordClass.rawValue,
            extendedRCode: UInt8(record.ttl >> 24),
            version: UInt8(truncatingIfNeeded: record.ttl >> 16),
            dnssecOK: record.ttl & 0x8000 != 0,
            options: options
        )
    }

    /// The largest UDP response the sender of this query accepts: its EDNS size (at least 512),
    /// or 512 without EDNS (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
    public var maxUDPResponseSize: Int {
        guard let edns else { return 512 }
        return max(512, Int(edns.udpPayloadSize))
    }

    /// A response skeleton for this query: same ID, opcode, RD bit and questions; RA set; an
    /// OPT record echoed with `udpPayloadSize` when the query had one.
    public func makeResponse(rcode: DNSResponseCode = .noError, udpPayloadSize: UInt16 = 1232) -> DNSMessage {
        var response = DNSMessage(
            header: DNSHeader(
                id: header.id, isResponse: true, opcode: header.opcode,
                recursionDesired: header.recursionDesired, recursionAvailable: true,
                rcode: rcode.rawValue
            ),
            questions: questions
        )
        if let edns {
            response.additionals.append(
                EDNS(udpPayloadSize: udpPayloadSize, dnssecOK: edns.dnssecOK).record
            )
        }
        return response
    }
}

/// EDNS(0) parameters carried by an OPT record (RFC 6891 §6.1.3).
public struct EDNS: Sendable, Hashable {
    public var udpPayloadSize: UInt16
    public var extendedRCode: UInt8
    public var version: UInt8
    public var dnssecOK: Bool
    public var options: [UInt8]

    public init(udpPayloadSize: UInt16, extendedRCode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false, options: [UInt8] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCode = extendedRCode
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    /// The OPT record that carries these parameters.
    public var record: ResourceRecord {
        let ttl = UInt32(extendedRCode) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
        return ResourceRecord(name: .root, recordClass: DNSClass(rawValue: udpPayloadSize), ttl: ttl, data: .opt(options))
    }
}
