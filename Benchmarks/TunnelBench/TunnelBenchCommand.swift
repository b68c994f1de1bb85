import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Tunnel

/// `tunnel-bench`: the same client figures over a direct TCP connection, through the tunnel's
/// own framing, and (with `--http2`) through raw HTTP/2 streams, on loopback, optionally across
/// a delayed link. Prints a table with ratios against direct and can write JSON.
@main
struct TunnelBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tunnel-bench",
        abstract: "Compare direct TCP with the tunnel's framing (and raw HTTP/2 streams) on loopback.")

    @Option(help: "MiB uploaded per bulk measurement.")
    var bulkMib: Int = 256
    @Option(help: "Concurrent streams for the parallel bulk measurement.")
    var streams: Int = 8
    @Option(help: "Sequential 64-byte round trips for the latency figures.")
    var requests: Int = 2000
    @Option(help: "New connections for time to first byte.")
    var connections: Int = 50
    @Option(help: "One-way delay in ms added by a user-space relay on the link (RTT = 2 x this); 0 = none.")
    var delayMs: Int = 0
    @Option(help: "Per-stream window of the tunnel in MiB.")
    var windowMib: Int = 8
    @Option(help: "Comma-separated paths to measure: direct, tunnel, http2 (raw NIOHTTP2 streams, one per connection).")
    var paths: String = "direct,tunnel,http2"
    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let sink = try await BenchServers.sink(group: group)
        let echo = try await BenchServers.echo(group: group)
        let delay: TimeAmount? = delayMs > 0 ? .milliseconds(Int64(delayMs)) : nil
        var configuration = TunnelConfiguration()
        configuration.streamWindow = UInt32(min(windowMib << 20, Int(Int32.max)))
        configuration.connectionWindow = UInt32(min(max(windowMib << 20 * 8, 64 << 20), Int(Int32.max)))
        configuration.keepAliveInterval = nil

        let wanted = Set(self.paths.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        var paths: [BenchPath] = []
        if wanted.contains("direct") {
            paths.append(try await BenchPaths.direct(group: group, sink: sink.localAddress!, echo: echo.localAddress!, delay: delay))
        }
        if wanted.contains("tunnel") {
            paths.append(try await BenchPaths.tunnel(group: group, sink: sink.localAddress!, echo: echo.localAddress!, delay: delay,
                                                     configuration: configuration))
        }
        if wanted.contains("http2") {
            paths.append(try await HTTP2Path.start(group: group, sink: sink.localAddress!, echo: echo.localAddress!, delay: delay,
                                                   window: Int(configuration.streamWindow)))
        }

        var report = BenchReport(build: BenchReport.buildKind, delayMs: delayMs, bulkMiB: bulkMib, streams: streams,
                                 requests: requests, windowMiB: windowMib, paths: paths.map(\.name), rows: [])
        let bytes = bulkMib << 20
        let ttfbCount = delay == nil ? connections : min(connections, 20)
        let rttCount = delay == nil ? requests : min(requests, 100)
        var figures: [String: [Double]] = [:]
        for path in paths {
            FileHandle.standardError.write("measuring \(path.name)...\n".data(using: .utf8)!)
            func measure(_ body: () throws -> Double) -> Double {
                do { return try body() } catch {
                    FileHandle.standardError.write("  \(path.name): \(error) (figure left out)\n".data(using: .utf8)!)
                    return .nan
                }
            }
            let single = measure { try Measurements.bulk(port: path.sinkPort, bytes: bytes) }
            let parallel = measure { try Measurements.parallelBulk(port: path.sinkPort, bytes: bytes, streams: streams) }
            let rtt = (try? Measurements.roundTrips(port: path.echoPort, count: rttCount)) ?? []
            let ttfb = (try? Measurements.timeToFirstByte(port: path.echoPort, count: ttfbCount)) ?? []
            figures[path.name] = [single, parallel, Measurements.percentile(rtt, 0.5), Measurements.percentile(rtt, 0.99),
                                  Measurements.percentile(ttfb, 0.5), Measurements.percentile(ttfb, 0.99)]
        }
        let metrics = [
            ("bulk, 1 stream (MB/s)", true),
            ("bulk, \(streams) streams (MB/s)", true),
            ("round trip p50 (µs)", false),
            ("round trip p99 (µs)", false),
            ("time to first byte p50 (µs)", false),
            ("time to first byte p99 (µs)", false),
        ]
        for (i, (name, higherIsBetter)) in metrics.enumerated() {
            var values: [String: Double] = [:]
            for path in paths { values[path.name] = figures[path.name]![i] }
            report.rows.append(BenchReport.Row(metric: name, higherIsBetter: higherIsBetter, values: values))
        }
        print(report.table())
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
        try? await group.shutdownGracefully()
    }
}

