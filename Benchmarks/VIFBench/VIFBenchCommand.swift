import ArgumentParser
import Foundation
import Glibc

/// `vif-bench`: how fast IP packets come off a TUN device (what the root daemon reads all day),
/// beside a UDP socket's reads of the same packets in the same run, at a few MTUs. A sender
/// thread floods UDP datagrams, routed to the TUN or to a UDP socket on loopback, for a fixed
/// time; the reader counts what it gets. Needs root; runs in a network namespace of its own.
@main
struct VIFBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vif-bench",
        abstract: "TUN device reads (poll thread, NIO pipe channel) beside UDP socket reads of the same packets. Needs root.")

    @Option(help: "Comma-separated MTUs (packet sizes) to measure.")
    var mtus: String = "1500,9000,65000"
    @Option(help: "Seconds per measurement.")
    var seconds: Double = 1
    @Option(help: "Comma-separated readers: poll (a thread with poll and read, as the sandbox's link does), nio (a NIO channel, as NetStackRunner does).")
    var readers: String = "poll,nio"
    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be above 0") }
        guard !sizes.isEmpty, sizes.allSatisfy({ (68...65535).contains($0) }) else {
            throw ValidationError("--mtus takes MTUs from 68 to 65535, comma-separated, e.g. 1500,9000,65000")
        }
        guard !kinds.isEmpty else { throw ValidationError("--readers takes poll, nio or both, e.g. poll,nio") }
    }

    var sizes: [Int] { mtus.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    var kinds: [Reader] { readers.split(separator: ",").compactMap { Reader(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        guard geteuid() == 0 else {
            throw ValidationError("vif-bench creates a TUN device in a network namespace of its own: run it as root (sudo)")
        }
        // First, while this is the only thread: every thread started later inherits the namespace.
        try PrivateNetwork.enter()
        var rows: [BenchRow] = []
        for mtu in sizes {
            for reader in kinds {
                // The baseline first, then the TUN, so that both see the same moment's machine.
                let udp = try Flood.measure(.udpSocket, reader: reader, mtu: mtu, seconds: seconds)
                let tun = try Flood.measure(.tun, reader: reader, mtu: mtu, seconds: seconds)
                rows.append(BenchRow(mtu: mtu, reader: reader.rawValue, tun: tun, udp: udp))
            }
        }
        print(BenchRow.table(rows, seconds: seconds))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(BenchReport(build: BenchReport.buildKind, seconds: seconds, rows: rows)).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }
}

/// How packets are read.
enum Reader: String, Codable {
    /// A dedicated thread: poll, then read until the queue is empty.
    case poll
    /// A NIO channel on one event loop (the TUN as an input-only pipe channel).
    case nio
}
