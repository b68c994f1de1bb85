import Foundation

/// The client side of each figure, on plain blocking sockets.
enum Measurements {
    /// Uploads `bytes` to the sink and waits for its count: MB/s (10^6 bytes per second).
    static func bulk(port: Int, bytes: Int) throws -> Double {
        let chunk = [UInt8](repeating: 0x5A, count: 256 * 1024)
        let start = DispatchTime.now()
        let client = try BlockingClient(port: port)
        var left = bytes
        try chunk.withUnsafeBytes { raw in
            while left > 0 {
                let n = min(left, raw.count)
                try client.send(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
                left -= n
            }
        }
        client.shutdownWrite()
        var count: UInt64 = 0
        try withUnsafeMutableBytes(of: &count) { try client.receive(into: $0) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        guard UInt64(bigEndian: count) == UInt64(bytes) else {
            throw BlockingClient.Failure(description: "the sink counted \(UInt64(bigEndian: count)) of \(bytes) bytes")
        }
        return Double(bytes) / seconds / 1e6
    }

    /// `streams` uploads at once, `bytes` in total: aggregate MB/s.
    static func parallelBulk(port: Int, bytes: Int, streams: Int) throws -> Double {
        let each = bytes / streams
        let errors = ErrorBox()
        let group = DispatchGroup()
        let start = DispatchTime.now()
        for _ in 0..<streams {
            group.enter()
            Thread.detachNewThread {
                do { _ = try bulk(port: port, bytes: each) } catch { errors.set(error) }
                group.leave()
            }
        }
        group.wait()
        if let error = errors.error { throw error }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return Double(each * streams) / seconds / 1e6
    }

    /// Sequential request/response of `size` bytes on one connection: latencies in microseconds.
    static func roundTrips(port: Int, count: Int, size: Int = 64) throws -> [Double] {
        let client = try BlockingClient(port: port)
        let request = [UInt8](repeating: 0x42, count: size)
        var response = [UInt8](repeating: 0, count: size)
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for i in 0..<(count + 20) {
            let start = DispatchTime.now().uptimeNanoseconds
            try request.withUnsafeBytes { try client.send($0) }
            try response.withUnsafeMutableBytes { try client.receive(into: $0) }
            if i >= 20 { samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3) }  // 20 warm-up
        }
        return samples
    }

    /// New connection, one request, first byte of the answer: microseconds per sample.
    static func timeToFirstByte(port: Int, count: Int) throws -> [Double] {
        var samples: [Double] = []
        let request = [UInt8](repeating: 0x43, count: 64)
        for _ in 0..<count {
            let start = DispatchTime.now().uptimeNanoseconds
            let client = try BlockingClient(port: port)
            try request.withUnsafeBytes { try client.send($0) }
            var first: UInt8 = 0
            try withUnsafeMutableBytes(of: &first) { try client.receive(into: $0) }
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3)
        }
        return samples
    }

    static func percentile(_ samples: [Double], _ p: Double) -> Double {
        guard !samples.isEmpty else { return .nan }
        let sorted = samples.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
    }
}

final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ e: any Error) { lock.withLock { stored = e } }
}
