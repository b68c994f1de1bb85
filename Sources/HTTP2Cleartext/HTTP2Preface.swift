import NIOCore

/// The client connection preface that opens every HTTP/2 connection (RFC 9113 §3.4).
public enum HTTP2Preface {
    public static let bytes: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    public enum Verdict: Sendable, Equatable {
        /// The bytes begin with the whole preface.
        case http2
        /// The bytes cannot begin an HTTP/2 connection.
        case notHTTP2
        /// Too few bytes to tell.
        case undecided
    }

    /// Whether the first bytes a client sent open an HTTP/2 connection (prior knowledge).
    public static func classify(_ buffer: ByteBuffer) -> Verdict {
        let view = buffer.readableBytesView
        for (offset, byte) in view.prefix(bytes.count).enumerated() where byte != bytes[offset] {
            return .notHTTP2
        }
        return view.count >= bytes.count ? .http2 : .undecided
    }
}
