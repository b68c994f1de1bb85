import Foundation

/// RFC 3339 timestamps in UTC with second precision, as Kubernetes writes them.
package enum Timestamp {
    package static func now() -> String { format(Date()) }

    /// `seconds` from now.
    static func after(seconds: Int) -> String { format(Date().addingTimeInterval(Double(seconds))) }

    static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int = 2) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1))-\(pad(parts.tm_mday))T"
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec))Z"
    }

    /// `metav1.MicroTime`: microseconds (`2024-05-01T12:34:56.123456Z`).
    static func formatMicro(_ date: Date, nanos: Int64) -> String {
        let micros = String(nanos / 1000)
        return String(format(date).dropLast()) + "." + String(repeating: "0", count: max(0, 6 - micros.count)) + micros + "Z"
    }

    static func parse(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.date(from: text)
    }
}
