import Glibc

/// The byte stream the bulk tests send: a fixed pseudo-random 1 MiB block repeated, so either
/// side can verify any chunk at any stream offset with memcmp (byte loops are slow in debug).
enum Pattern {
    static let blockSize = 1 << 20
    static let block: [UInt8] = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        return (0..<blockSize).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
    }()

    /// Whether `bytes` equal the stream at `offset`.
    static func matches(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        var done = 0
        return block.withUnsafeBytes { pattern in
            while done < bytes.count {
                let start = (offset + done) % blockSize
                let n = min(bytes.count - done, blockSize - start)
                if memcmp(bytes.baseAddress! + done, pattern.baseAddress! + start, n) != 0 { return false }
                done += n
            }
            return true
        }
    }

    /// Calls `body` with the stream bytes from `offset`, at most `length` and one block's end.
    static func withBytes<R>(at offset: Int, maximum length: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = offset % blockSize
        let n = min(length, blockSize - start)
        return try block.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + n)])) }
    }
}

/// Monotonic time in nanoseconds.
func monotonicNow() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
