/// Why a DNS message or name could not be read or built.
public enum DNSCodecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message ended before the field at `offset` was complete.
    case truncated(offset: Int)
    /// A label of length zero inside a name (only the root may be empty).
    case emptyLabel
    /// A label longer than 63 bytes.
    case labelTooLong(Int)
    /// A name longer than 255 bytes on the wire.
    case nameTooLong(Int)
    /// A compression pointer that points forward, at itself, or loops.
    case badPointer(offset: Int)
    /// A label type other than a plain length or a pointer (RFC 6891 retired the others).
    case unsupportedLabelType(offset: Int)
    /// A record's data did not match its declared length or type.
    case badRecordData(type: UInt16, offset: Int)
    /// Bytes left over after the last section.
    case trailingBytes(count: Int)
    /// A name written as text could not be read.
    case invalidText(String)
    /// A message too large for DNS (more than 65535 bytes or records).
    case messageTooLarge

    public var description: String {
        switch self {
        case .truncated(let offset):
            return "The DNS message ends early at byte \(offset); the sender or the network cut it short."
        case .emptyLabel:
            return "The DNS name has an empty label; write it without doubled or leading dots."
        case .labelTooLong(let length):
            return "A DNS label is \(length) bytes long; shorten it to at most 63."
        case .nameTooLong(let length):
            return "The DNS name takes \(length) bytes; shorten it to at most 255."
        case .badPointer(let offset):
            return "The DNS message has an invalid compression pointer at byte \(offset); the sender is broken or hostile."
        case .unsupportedLabelType(let offset):
            return "The DNS message uses an unsupported label type at byte \(offset); the sender is broken or hostile."
        case .badRecordData(let type, let offset):
            return "The data of a type \(type) record at byte \(offset) does not match its length; the sender is broken or hostile."
        case .trailingBytes(let count):
            return "The DNS message has \(count) unexpected bytes after its last record; the sender is broken."
        case .invalidText(let text):
            return "\"\(text)\" is not a valid DNS name; check its escapes."
        case .messageTooLarge:
            return "The DNS message is too large for the wire format; send fewer records."
        }
    }
}
