import Foundation

/// A `metav1.Time`: an RFC 3339 timestamp with second precision, such as
/// `"2024-05-01T12:34:56Z"` (`creationTimestamp`, `lastTransitionTime`, ...).
///
/// Decoding also accepts a fraction and a numeric offset; encoding always prints whole seconds
/// in UTC, as the API server does, so a timestamp the server sent round-trips byte for byte.
public struct KubeTime: Sendable, Hashable, Comparable {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    public var secondsSince1970: Int64

    public init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    /// Truncates `date` to whole seconds (toward the past), as the API server stores it.
    public init(_ date: Date) {
        secondsSince1970 = Int64(date.timeIntervalSince1970.rounded(.down))
    }

    /// Parses an RFC 3339 timestamp; `nil` when `text` is not one.
    public init?(rfc3339 text: String) {
        guard let instant = RFC3339.parse(text) else { return nil }
        secondsSince1970 = instant.seconds
    }

    /// The current time, truncated to seconds.
    public static func now() -> KubeTime { KubeTime(Date()) }

    public var date: Date { Date(timeIntervalSince1970: TimeInterval(secondsSince1970)) }

    /// The wire form, e.g. `2024-05-01T12:34:56Z`.
    public var rfc3339: String {
        RFC3339.format(RFC3339.Instant(seconds: secondsSince1970, nanoseconds: 0), fractionDigits: 0)
    }

    public static func < (lhs: KubeTime, rhs: KubeTime) -> Bool {
        lhs.secondsSince1970 < rhs.secondsSince1970
    }
}

extension KubeTime: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let time = KubeTime(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "\"\(text)\" is not an RFC 3339 timestamp such as 2024-05-01T12:34:56Z.")
        }
        self = time
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}

extension KubeTime: CustomStringConvertible {
    public var description: String { rfc3339 }
}
