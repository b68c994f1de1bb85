import Foundation
import SandboxAPIServer
import SandboxNetwork

/// Writes a container's output to its log file in the CRI format the kubelet uses:
/// `<RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <text>`, one record per line, a
/// line longer than `maximumLine` split into partial (P) records. Not thread-safe: one writer
/// per container instance, driven by the thread that reads its pipes.
final class CRILogWriter: @unchecked Sendable {  // handed to the one pump thread that uses it
    static let maximumLine = 16 * 1024
    private let fd: Int32
    private var pending: [String: [UInt8]] = ["stdout": [], "stderr": []]

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw PodRuntimeError.failed("cannot create the log file \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    /// Records `bytes` read from `stream` ("stdout" or "stderr").
    func append(_ bytes: ArraySlice<UInt8>, stream: String) {
        var buffer = pending[stream, default: []]
        buffer.append(contentsOf: bytes)
        var output: [UInt8] = []
        var start = 0
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            output += Self.record(stream, partial: false, buffer[start..<newline])
            start = newline + 1
        }
        while buffer.count - start > Self.maximumLine {
            output += Self.record(stream, partial: true, buffer[start..<(start + Self.maximumLine)])
            start += Self.maximumLine
        }
        pending[stream] = Array(buffer[start...])
        write(output)
    }

    /// Ends both streams: an unterminated last line becomes a full record.
    func finish() {
        var output: [UInt8] = []
        for stream in ["stdout", "stderr"] {
            if let rest = pending[stream], !rest.isEmpty { output += Self.record(stream, partial: false, rest[...]) }
            pending[stream] = []
        }
        write(output)
    }

    private func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    static func record(_ stream: String, partial: Bool, _ text: ArraySlice<UInt8>) -> [UInt8] {
        Array("\(timestamp()) \(stream) \(partial ? "P" : "F") ".utf8) + text + [UInt8(ascii: "\n")]
    }

    /// Now as `2026-01-02T03:04:05.123456789Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec)
    }
}
