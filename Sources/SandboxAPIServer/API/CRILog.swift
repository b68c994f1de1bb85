import Foundation

/// The container log format of the CRI (what the kubelet reads back for `pods/log`): one record
/// per line, `<RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <text>`, where `P` marks a
/// partial line whose rest follows in the next record. Pure functions, no I/O.
enum CRILog {
    /// One log line as the user sees it, joined from its records.
    struct Line: Equatable {
        /// The time of the line's first record, as written (`2024-05-01T12:00:00.123456789Z`).
        var time: String
        /// Seconds since 1970 of `time` (nil when it does not parse).
        var seconds: Double?
        /// The text with its newline (a line cut off at the end of the log has none).
        var text: [UInt8]
    }

    /// Joins records into lines. Records are read from `bytes` up to the last newline; what
    /// follows it (a record still being written) is left for later: `consumed` says how far the
    /// complete records went. `carry` holds a line whose `P` records have not ended yet; pass it
    /// back on the next call. Malformed records are skipped.
    static func lines(_ bytes: some Collection<UInt8>, carry: inout Line?) -> (lines: [Line], consumed: Int) {
        var lines: [Line] = []
        var consumed = 0
        var start = bytes.startIndex
        var offset = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "\n") {
                let record = bytes[start..<index]
                if let parsed = parse(record) {
                    if carry == nil { carry = Line(time: parsed.time, seconds: seconds(parsed.time), text: []) }
                    carry!.text.append(contentsOf: parsed.text)
                    if !parsed.partial {
                        carry!.text.append(UInt8(ascii: "\n"))
                        lines.append(carry!)
                        carry = nil
                    }
                }
                consumed = offset + 1
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
            offset += 1
        }
        return (lines, consumed)
    }

    /// One record: time, stream, tag, text (the text may be empty; its leading space is part of
    /// the format, not of the text).
    static func parse(_ record: some Collection<UInt8>) -> (time: String, stream: String, partial: Bool, text: [UInt8])? {
        let fields = record.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return nil }
        let time = String(decoding: fields[0], as: UTF8.self)
        let stream = String(decoding: fields[1], as: UTF8.self)
        let tag = String(decoding: fields[2], as: UTF8.self)
        guard stream == "stdout" || stream == "stderr", !time.isEmpty else { return nil }
        // Tags may carry more flags after a colon in later CRI versions ("F:x"); the first is the kind.
        let partial = tag.hasPrefix("P")
        guard partial || tag.hasPrefix("F") else { return nil }
        return (time, stream, partial, fields.count > 3 ? Array(fields[3]) : [])
    }

    /// Seconds since 1970 of an RFC 3339 time (`Z` or `±hh:mm`, any number of fraction digits).
    static func seconds(_ text: String) -> Double? {
        let utf8 = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= utf8.count else { return nil }
            var value = 0
            for byte in utf8[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard utf8.count >= 20, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-"),
              utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: "t"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var index = 19
        var fraction = 0.0
        if utf8[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < utf8.count, (48...57).contains(utf8[index]) {
                fraction += Double(utf8[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        guard index < utf8.count else { return nil }
        var offset = 0
        switch utf8[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == utf8.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == utf8.count, let h = number(index + 1..<index + 3), let m = number(index + 4..<index + 6) else { return nil }
            offset = (h * 3600 + m * 60) * (utf8[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Double(timegm(&parts) - offset) + fraction
    }
}
