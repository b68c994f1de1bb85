/// Timestamps (`metav1.Time`) as Go's `time.Parse(time.RFC3339, s)` reads them, with its error
/// messages (`parsing time "x" as "2006-01-02T15:04:05Z07:00": cannot parse "x" as "2006"`),
/// which the real server reports for a bad `creationTimestamp` or `lastTransitionTime`.
public enum RFC3339Syntax {
    static let layout = "2006-01-02T15:04:05Z07:00"

    /// nil when `text` is an RFC 3339 time, else Go's error.
    public static func error(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var pos = 0
        func rest() -> String { String(decoding: bytes[min(pos, bytes.count)...], as: UTF8.self) }
        func cannotParse(_ element: String) -> String {
            "parsing time \(GoQuote.quote(text)) as \(GoQuote.quote(layout)): cannot parse \(GoQuote.quote(rest())) as \(GoQuote.quote(element))"
        }
        func outOfRange(_ what: String) -> String { "parsing time \(GoQuote.quote(text)): \(what) out of range" }
        func digits(_ count: Int) -> Int? {
            guard pos + count <= bytes.count else { return nil }
            var value = 0
            for b in bytes[pos..<(pos + count)] {
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            pos += count
            return value
        }
        func literal(_ c: Character) -> Bool {
            guard pos < bytes.count, bytes[pos] == c.asciiValue! else { return false }
            pos += 1
            return true
        }
        guard let year = digits(4) else { return cannotParse("2006") }
        guard literal("-") else { return cannotParse("-") }
        guard let month = digits(2) else { return cannotParse("01") }
        guard literal("-") else { return cannotParse("-") }
        guard let day = digits(2) else { return cannotParse("02") }
        guard literal("T") else { return cannotParse("T") }
        guard let hour = digits(2) else { return cannotParse("15") }
        guard literal(":") else { return cannotParse(":") }
        guard let minute = digits(2) else { return cannotParse("04") }
        guard literal(":") else { return cannotParse(":") }
        guard let second = digits(2) else { return cannotParse("05") }
        // Go accepts fractional seconds after the seconds even when the layout has none.
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") || bytes[pos] == UInt8(ascii: ",") {
            var end = pos + 1
            while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") { end += 1 }
            if end > pos + 1 { pos = end }
        }
        if !literal("Z") {
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") else {
                return cannotParse("Z07:00")
            }
            let zoneStart = pos
            pos += 1
            guard let zoneHour = digits(2), literal(":"), let zoneMinute = digits(2) else {
                pos = zoneStart
                return cannotParse("Z07:00")
            }
            if zoneHour > 24 || zoneMinute > 59 {
                return "parsing time \(GoQuote.quote(text)): time zone offset out of range"
            }
        }
        if pos < bytes.count { return "parsing time \(GoQuote.quote(text)): extra text: \(GoQuote.quote(rest()))" }
        if !(1...12).contains(month) { return outOfRange("month") }
        if hour > 23 { return outOfRange("hour") }
        if minute > 59 { return outOfRange("minute") }
        if second > 59 { return outOfRange("second") }
        if day < 1 || day > daysIn(month: month, year: year) { return outOfRange("day") }
        return nil
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
