import Foundation

/// The benchmark's results: what was measured, on which build, each figure per path, and the
/// ratio of each path to direct.
struct BenchReport: Codable {
    struct Row: Codable {
        var metric: String
        var higherIsBetter: Bool
        var values: [String: Double]
        /// path / direct (for latencies: how many times the direct figure).
        var ratios: [String: Double] {
            guard let direct = values["direct"], direct > 0 else { return [:] }
            return values.filter { $0.key != "direct" }.mapValues { $0 / direct }
        }

        enum CodingKeys: String, CodingKey { case metric, higherIsBetter, values, ratios }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(metric, forKey: .metric)
            try c.encode(higherIsBetter, forKey: .higherIsBetter)
            try c.encode(values, forKey: .values)
            try c.encode(ratios, forKey: .ratios)
        }
        init(metric: String, higherIsBetter: Bool, values: [String: Double]) {
            self.metric = metric
            self.higherIsBetter = higherIsBetter
            self.values = values
        }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            metric = try c.decode(String.self, forKey: .metric)
            higherIsBetter = try c.decode(Bool.self, forKey: .higherIsBetter)
            values = try c.decode([String: Double].self, forKey: .values)
        }
    }

    var build: String
    var delayMs: Int
    var bulkMiB: Int
    var streams: Int
    var requests: Int
    var windowMiB: Int
    var paths: [String]
    var rows: [Row]

    static var buildKind: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }

    func table() -> String {
        var header = "metric".padding(toLength: 30, withPad: " ", startingAt: 0)
        for path in paths {
            header += path.leftPadded(12)
            if path != "direct" { header += "x direct".leftPadded(10) }
        }
        var lines = ["tunnel-bench (\(build) build, link delay \(delayMs) ms one way = \(2 * delayMs) ms RTT, window \(windowMiB) MiB)",
                     header, String(repeating: "-", count: header.count)]
        for row in rows {
            var line = row.metric.padding(toLength: 30, withPad: " ", startingAt: 0)
            for path in paths {
                line += String(format: "%.1f", row.values[path] ?? .nan).leftPadded(12)
                if path != "direct" { line += String(format: "%.2f", row.ratios[path] ?? .nan).leftPadded(10) }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
