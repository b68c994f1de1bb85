import Foundation

/// kubectl's `--request-timeout` syntax: `0` means no timeout, a plain integer is seconds, and
/// otherwise a Go duration such as `30s`, `1m`, `1h30m`, `1.5s` or `250ms`.
public enum RequestTimeout {
    /// The timeout, `nil` for none, or an error naming the flag.
    public static func parse(_ text: String, flag: String = "--request-timeout") throws -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        func invalid(_ problem: String) -> ConfigurationError {
            .invalidOverride(flag: flag, value: text, problem: problem)
        }
        if let seconds = Int(trimmed) {
            guard seconds >= 0 else { throw invalid("the timeout must not be negative") }
            return seconds == 0 ? nil : .seconds(seconds)
        }
        guard let nanoseconds = goDurationNanoseconds(trimmed) else {
            throw invalid("not a duration; use a number of seconds or a value like 30s, 1m or 2h (0 for none)")
        }
        guard nanoseconds >= 0 else { throw invalid("the timeout must not be negative") }
        return nanoseconds == 0 ? nil : .nanoseconds(nanoseconds)
    }

    /// Go's `time.ParseDuration`: an optional sign, then one or more `<decimal><unit>` pairs.
    static func goDurationNanoseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
        ]
        var rest = Substring(text)
        var sign: Double = 1
        if rest.hasPrefix("-") { sign = -1; rest = rest.dropFirst() } else if rest.hasPrefix("+") { rest = rest.dropFirst() }
        if rest == "0" { return 0 }
        guard !rest.isEmpty else { return nil }
        var total: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            // Longest unit first, so "ms" is not read as "m" followed by garbage.
            guard let (unit, scale) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) })
            else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        guard total * sign < Double(Int64.max) else { return nil }
        return Int64(total * sign)
    }
}
