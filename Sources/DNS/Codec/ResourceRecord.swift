import NetworkAddress

/// A resource record (RFC 1035 §4.1.3). For OPT the class and TTL fields carry EDNS values
/// (RFC 6891 §6.1.2), so both are kept as raw numbers.
public struct ResourceRecord: Sendable, Hashable {
    public var name: DNSName
    public var recordClass: DNSClass
    public var ttl: UInt32
    public var data: RecordData

    public init(name: DNSName, recordClass: DNSClass = .internet, ttl: UInt32, data: RecordData) {
        self.name = name
        self.recordClass = recordClass
        self.ttl = ttl
        self.data = data
    }

    /// The record's type, derived from its data.
    public var type: DNSRecordType { data.type }
}

/// The typed data of a record; types this codec does not model travel as `.unknown`.
public enum RecordData: Sendable, Hashable {
    /// An IPv4 address.
    case a(IPv4Address)
    /// An IPv6 address.
    case aaaa(IPv6Address)
    case cname(DNSName)
    case ptr(DNSName)
    case ns(DNSName)
    /// A service location (RFC 2782); the target is never compressed on write.
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// One or more character strings of at most 255 bytes each.
    case txt([[UInt8]])
    /// Start of authority, sent in the authority section of negative answers (RFC 2308).
    case soa(SOAData)
    /// EDNS options as raw bytes (RFC 6891).
    case opt([UInt8])
    /// Any other type, its data kept as received.
    case unknown(type: DNSRecordType, bytes: [UInt8])

    public var type: DNSRecordType {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .cname: return .cname
        case .ptr: return .ptr
        case .ns: return .ns
        case .srv: return .srv
        case .txt: return .txt
        case .soa: return .soa
        case .opt: return .opt
        case .unknown(let type, _): return type
        }
    }
}

/// The fields of an SOA record.
public struct SOAData: Sendable, Hashable {
    public var primaryServer: DNSName
    public var responsibleMailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// The TTL resolvers should cache a negative answer for (RFC 2308 §4).
    public var minimum: UInt32

    public init(
        primaryServer: DNSName, responsibleMailbox: DNSName, serial: UInt32, refresh: UInt32,
        retry: UInt32, expire: UInt32, minimum: UInt32
    ) {
        self.primaryServer = primaryServer
        self.responsibleMailbox = responsibleMailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}
