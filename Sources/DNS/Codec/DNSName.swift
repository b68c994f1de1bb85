/// A domain name as a sequence of labels (RFC 1035 §3.1), always absolute.
///
/// Labels keep the bytes (and so the letter case) they were written or received with, because a
/// resolver must echo the client's spelling back; comparison and hashing ignore ASCII case, as DNS
/// requires. The root name has no labels.
public struct DNSName: Sendable, Hashable, CustomStringConvertible {
    /// The most bytes one label may hold.
    public static let maxLabelLength = 63
    /// The most bytes a name may take on the wire, length octets and the final root octet included.
    public static let maxWireLength = 255

    /// The labels, most specific first; never empty labels.
    public let labels: [[UInt8]]

    /// The root name `.`.
    public static let root = DNSName(unchecked: [])

    /// A name from raw labels; throws when a label is empty or too long, or the name too long.
    public init(labels: [[UInt8]]) throws(DNSCodecError) {
        var wire = 1
        for label in labels {
            guard !label.isEmpty else { throw .emptyLabel }
            guard label.count <= Self.maxLabelLength else { throw .labelTooLong(label.count) }
            wire += 1 + label.count
        }
        guard wire <= Self.maxWireLength else { throw .nameTooLong(wire) }
        self.labels = labels
    }

    /// A name from its text form: dot-separated labels, an optional final dot, `\.` for a dot inside
    /// a label and `\DDD` for any byte. `""` and `"."` are the root.
    public init(_ text: String) throws(DNSCodecError) {
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        var sawContent = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                if current.isEmpty {
                    // A lone "." is the root; a dot anywhere else must end a non-empty label.
                    guard index == bytes.count - 1, !sawContent else { throw .emptyLabel }
                } else {
                    labels.append(current)
                    current = []
                }
                index += 1
                continue
            }
            sawContent = true
            if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                let digits = bytes[(index + 1)...].prefix(3)
                if digits.count == 3, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                    let value = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                    guard value <= 255 else { throw .invalidText(text) }
                    current.append(UInt8(value))
                    index += 4
                } else {
                    current.append(bytes[index + 1])
                    index += 2
                }
                continue
            }
            current.append(byte)
            index += 1
        }
        if !current.isEmpty { labels.append(current) }
        try self.init(labels: labels)
    }

    init(unchecked labels: [[UInt8]]) {
        self.labels = labels
    }

    /// Bytes this name takes on the wire without compression.
    public var wireLength: Int {
        labels.reduce(1) { $0 + 1 + $1.count }
    }

    /// True for the root name.
    public var isRoot: Bool { labels.isEmpty }

    /// The label at `index` as text, lowercased (for matching rules, not for display).
    public func lowercasedLabel(_ index: Int) -> String {
        String(decoding: labels[index].map(Self.lower), as: UTF8.self)
    }

    /// This name with its first `count` labels removed.
    public func dropFirst(_ count: Int) -> DNSName {
        DNSName(unchecked: Array(labels.dropFirst(count)))
    }

    /// This name with its last `count` labels removed.
    public func dropLast(_ count: Int) -> DNSName {
        DNSName(unchecked: Array(labels.dropLast(count)))
    }

    /// True when this name equals `suffix` or lies under it (ASCII case ignored).
    public func hasSuffix(_ suffix: DNSName) -> Bool {
        guard suffix.labels.count <= labels.count else { return false }
        let offset = labels.count - suffix.labels.count
        for (index, label) in suffix.labels.enumerated() where !Self.labelsEqual(labels[offset + index], label) {
            return false
        }
        return true
    }

    /// This name followed by `suffix`; throws when the result would be too long.
    public func appending(_ suffix: DNSName) throws(DNSCodecError) -> DNSName {
        try DNSName(labels: labels + suffix.labels)
    }

    /// Text form with a final dot; dots, backslashes and unprintable bytes escaped.
    public var description: String {
        if labels.isEmpty { return "." }
        var out = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    out.append("\\")
                    out.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7E:
                    out.append(Character(Unicode.Scalar(byte)))
                default:
                    let digits = String(byte)
                    out.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
                }
            }
            out.append(".")
        }
        return out
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for (left, right) in zip(lhs.labels, rhs.labels) where !labelsEqual(left, right) {
            return false
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(labels.count)
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.lower(byte)) }
        }
    }

    /// True when the labels are byte-for-byte identical, case included.
    public func isIdentical(to other: DNSName) -> Bool {
        labels == other.labels
    }

    static func labelsEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        for (a, b) in zip(left, right) where lower(a) != lower(b) {
            return false
        }
        return true
    }

    static func lower(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }
}
