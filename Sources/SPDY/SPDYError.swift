/// Why SPDY bytes could not be encoded or decoded. Decoding errors are connection errors:
/// the decoder stays failed afterwards, because the shared compression context is lost.
public enum SPDYError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A control frame carried a version other than 3.
    case unsupportedVersion(UInt16)
    /// A frame's length field exceeds the decoder's cap; checked before any payload is read.
    case frameTooLarge(length: Int, limit: Int)
    /// A known control frame has a length or field its type does not allow.
    case invalidFrame(type: UInt16, reason: String)
    /// The compressed header block could not be inflated or its pairs are malformed.
    case invalidHeaderBlock(String)
    /// The decompressed header block would exceed the decoder's cap.
    case headerBlockTooLarge(limit: Int)
    /// A frame to encode has a field outside its wire range.
    case unencodable(String)
    /// zlib itself failed (out of memory or an internal error).
    case compression(String)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v):
            return "The peer speaks SPDY version \(v), not 3; check that the server supports SPDY/3.1 port-forward."
        case .frameTooLarge(let length, let limit):
            return "The peer sent a SPDY frame of \(length) bytes, over the limit of \(limit); close the connection and retry."
        case .invalidFrame(let type, let reason):
            return "The peer sent a malformed SPDY control frame of type \(type) (\(reason)); close the connection and retry."
        case .invalidHeaderBlock(let reason):
            return "The peer sent a bad SPDY header block (\(reason)); close the connection and retry."
        case .headerBlockTooLarge(let limit):
            return "The peer sent a SPDY header block larger than \(limit) bytes; close the connection and retry."
        case .unencodable(let reason):
            return "A SPDY frame could not be encoded (\(reason)); this is a bug in the caller."
        case .compression(let reason):
            return "zlib failed while handling SPDY headers (\(reason)); close the connection and retry."
        }
    }
}
