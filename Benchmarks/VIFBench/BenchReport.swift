import Foundation

/// One MTU and reader: the TUN's figures beside the UDP socket's from the same run.
struct BenchRow: Codable {
    var mtu: Int
    var reader: String
    var tun: Flood.Figures
    var udp: Flood.Figures

    static func table(_ rows: [BenchRow], seconds: Double) -> String {
        let header = ["MTU", "reader", "TUN kpkt/s", "TUN MB/s", "UDP kpkt/s", "UDP MB/s", "TUN/UDP", "read/sent TUN", "UDP"]
        let widths = [6, 7, 11, 10, 11, 10, 8, 14, 5]
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { cell, width in String(repeating: " ", count: max(0, width - cell.count)) + cell }.joined(separator: " ")
        }
        var lines = [
            "vif-bench (\(BenchReport.buildKind) build, \(String(format: "%.1f", seconds)) s per figure): packets read off a TUN device",
            "beside a UDP socket on loopback reading the same datagrams (MB/s count whole IP packets)",
            line(header),
        ]
        for row in rows {
            lines.append(line([
                "\(row.mtu)", row.reader,
                String(format: "%.1f", row.tun.packetsPerSecond / 1e3), String(format: "%.0f", row.tun.megabytesPerSecond),
                String(format: "%.1f", row.udp.packetsPerSecond / 1e3), String(format: "%.0f", row.udp.megabytesPerSecond),
                String(format: "%.2f", row.udp.packets > 0 ? Double(row.tun.packets) / Double(row.udp.packets) : .nan),
                row.tun.readShare, row.udp.readShare,
            ]))
        }
        return lines.joined(separator: "\n")
    }
}

extension Flood.Figures {
    /// The share of the sent packets the reader got: near 100% the sender, not the reader, set
    /// the pace; below, the rest overflowed the queue while the reader was busy.
    var readShare: String { sent > 0 ? String(format: "%.0f%%", 100 * Double(packets) / Double(sent)) : "-" }
}

/// The JSON `--json` writes.
struct BenchReport: Codable {
    var build: String
    var seconds: Double
    var rows: [BenchRow]

    static var buildKind: String {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }
}
