import Foundation

/// A `metav1.MicroTime`: an RFC 3339 timestamp with microseconds, such as
/// `"2024-05-01T12:34:56.123456Z"` (`Event.eventTime`, `Lease.renewTime`).
///
/// Decoding accepts any precision (or none) and a numeric offset; encoding prints exactly six
/// fraction digits in UTC, as the API server does, so the server's bytes round-trip unchanged.
public struct KubeMicroTime: Sendable, Hashable, Comparable {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64
    /// The sub-second part, 0..<1_000_000.
    public var microseconds: Int32

    public init(secondsSince1970: Int64, microseconds: Int32 = 0) {
        precondition((0..<1_000_000).contains(microseconds), "microseconds must be in 0..<1000000")
        self.secondsSince1970 = secondsSince1970
        self.microseconds = microseconds
    }

    /// Truncates `date` to whole microseconds (toward the past).
    public init(_ date: Date) {
        // Split first: a Double holds microseconds since 1970 exactly only until ~2255, and
        // splitting keeps the truncation exact for the whole-second part.
        let interval = date.timeIntervalSince1970
        let seconds = interval.rounded(.down)
        var micros = ((interval - seconds) * 1_000_000).rounded(.down)
        micros = min(max(micros, 0), 999_999)
        self.init(secondsSince1970: Int64(seconds), microseconds: Int32(micros))
    }

    /// Parses an RFC 3339 timestamp; `nil` when `text` is not one.
    public init?(rfc3339 text: String) {
        guard let instant = RFC3339.parse(text) else { return nil }
        self.init(secondsSince1970: instant.seconds, microseconds: instant.nanoseconds / 1000)
    }

    /// The current time, truncated to microseconds.
    public static func now() -> KubeMicroTime { KubeMicroTime(Date()) }

    public var date: Date {
        Date(timeIntervalSince1970: TimeInterval(secondsSince1970) + TimeInterval(microseconds) / 1_000_000)
    }

    /// The wire form, e.g. `2024-05-01T12:34:56.123456Z`.
    public var rfc3339: String {
        RFC3339.format(
            RFC3339.Instant(seconds: secondsSince1970, nanoseconds: microseconds * 1000), fractionDigits: 6)
    }

    public static func < (lhs: KubeMicroTime, rhs: KubeMicroTime) -> Bool {
        (lhs.secondsSince1970, lhs.microseconds) < (rhs.secondsSince1970, rhs.microseconds)
    }
}

extension KubeMicroTime: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let time = KubeMicroTime(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "\"\(text)\" is not an RFC 3339 timestamp such as 2024-05-01T12:34:56.123456Z.")
        }
        self = time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}

extension KubeMicroTime: CustomStringConvertible {
    public var description: String { rfc3339 }
}
