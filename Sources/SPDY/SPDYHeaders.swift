/// A SPDY/3 header block before compression: ordered name/value pairs with lowercase,
/// unique names. Several values for one name travel NUL-joined in one value, as on the wire.
public struct SPDYHeaders: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    public struct Field: Hashable, Sendable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    /// Names are lowercased (SPDY requires it); a repeated name replaces the earlier value.
    public init(_ pairs: [(String, String)]) {
        fields = []
        for (name, value) in pairs { self[name] = value }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The value for `name` (any case), or nil.
    public subscript(name: String) -> String? {
        get {
            let key = name.lowercased()
            return fields.first { $0.name == key }?.value
        }
        set {
            let key = name.lowercased()
            if let i = fields.firstIndex(where: { $0.name == key }) {
                if let newValue { fields[i].value = newValue } else { fields.remove(at: i) }
            } else if let newValue {
                fields.append(Field(name: key, value: newValue))
            }
        }
    }

    /// Every value for `name`: SPDY carries repeated headers as one NUL-separated value.
    public func values(for name: String) -> [String] {
        guard let joined = self[name] else { return [] }
        return joined.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
    }

    /// The uncompressed wire form: 32-bit pair count, then 32-bit length-prefixed names and values.
    func serialized() throws(SPDYError) -> [UInt8] {
        var out: [UInt8] = []
        guard fields.count <= Int(UInt32.max) else { throw .unencodable("too many headers") }
        out.appendUInt32(UInt32(fields.count))
        for field in fields {
            let name = Array(field.name.utf8)
            let value = Array(field.value.utf8)
            guard !name.isEmpty else { throw .unencodable("empty header name") }
            guard name.count < (1 << 24), value.count < (1 << 24) else { throw .unencodable("header over 16 MiB") }
            out.appendUInt32(UInt32(name.count))
            out += name
            out.appendUInt32(UInt32(value.count))
            out += value
        }
        return out
    }

    /// Parses an inflated block strictly: every byte accounted for, names non-empty, lowercase, unique.
    init(parsing bytes: [UInt8]) throws(SPDYError) {
        var reader = ByteReader(bytes[...])
        guard let count = reader.readUInt32() else { throw .invalidHeaderBlock("truncated pair count") }
        // Each pair needs at least 8 bytes, so a lying count cannot make us allocate.
        guard Int(count) <= reader.remaining / 8 else { throw .invalidHeaderBlock("pair count \(count) exceeds the block") }
        var fields: [Field] = []
        fields.reserveCapacity(Int(count))
        var seen = Set<String>()
        for _ in 0..<count {
            guard let nameLength = reader.readUInt32(), let nameBytes = reader.read(Int(nameLength)) else {
                throw .invalidHeaderBlock("truncated header name")
            }
            guard let valueLength = reader.readUInt32(), let valueBytes = reader.read(Int(valueLength)) else {
                throw .invalidHeaderBlock("truncated header value")
            }
            guard !nameBytes.isEmpty else { throw .invalidHeaderBlock("empty header name") }
            guard !nameBytes.contains(where: { (0x41...0x5A).contains($0) || $0 == 0 }) else {
                throw .invalidHeaderBlock("header name is not lowercase")
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                throw .invalidHeaderBlock("header name is not UTF-8")
            }
            guard seen.insert(name).inserted else { throw .invalidHeaderBlock("duplicate header \(name)") }
            fields.append(Field(name: name, value: String(decoding: valueBytes, as: UTF8.self)))
        }
        guard reader.remaining == 0 else { throw .invalidHeaderBlock("\(reader.remaining) trailing bytes") }
        self.fields = fields
    }
}

/// Big-endian reads over a slice, returning nil instead of trapping when short.
struct ByteReader {
    private var bytes: ArraySlice<UInt8>
    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var remaining: Int { bytes.count }

    mutating func read(_ n: Int) -> ArraySlice<UInt8>? {
        guard n >= 0, n <= bytes.count else { return nil }
        let out = bytes.prefix(n)
        bytes = bytes.dropFirst(n)
        return out
    }

    mutating func readUInt8() -> UInt8? { read(1)?.first }

    mutating func readUInt32() -> UInt32? {
        guard let b = read(4) else { return nil }
        return b.reduce(0) { $0 << 8 | UInt32($1) }
    }
}

extension Array where Element == UInt8 {
    mutating func appendUInt32(_ v: UInt32) {
        append(UInt8(v >> 24)); append(UInt8((v >> 16) & 0xff)); append(UInt8((v >> 8) & 0xff)); append(UInt8(v & 0xff))
    }
    mutating func appendUInt24(_ v: UInt32) {
        append(UInt8((v >> 16) & 0xff)); append(UInt8((v >> 8) & 0xff)); append(UInt8(v & 0xff))
    }
}
