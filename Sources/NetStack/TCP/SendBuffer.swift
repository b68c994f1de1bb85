/// Bytes the owner has handed to a connection and the peer has not acknowledged yet: a ring
/// that starts small and grows up to its capacity, so idle connections cost little memory.
/// The byte at offset 0 is the one at SND.UNA.
final class SendBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private var head = 0
    private(set) var count = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(byteCount: min(capacity, 64 * 1024), alignment: 16)
    }

    deinit { storage.deallocate() }

    var freeSpace: Int { capacity - count }

    /// Copies as much of `bytes` as fits; returns how many bytes were taken.
    func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let n = min(bytes.count, freeSpace)
        guard n > 0 else { return 0 }
        if count + n > storage.count { grow(toAtLeast: count + n) }
        let tail = (head + count) % storage.count
        let first = min(n, storage.count - tail)
        UnsafeMutableRawBufferPointer(rebasing: storage[tail..<(tail + first)])
            .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[bytes.startIndex..<(bytes.startIndex + first)]))
        if first < n {
            UnsafeMutableRawBufferPointer(rebasing: storage[0..<(n - first)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(bytes.startIndex + first)..<(bytes.startIndex + n)]))
        }
        count += n
        return n
    }

    /// Forgets the first `n` bytes (acknowledged by the peer).
    func removeFirst(_ n: Int) {
        precondition(n <= count)
        count -= n
        head = count == 0 ? 0 : (head + n) % storage.count
    }

    /// Copies `length` bytes starting at `offset` into `destination`.
    func copy(offset: Int, length: Int, into destination: UnsafeMutableRawBufferPointer) {
        precondition(offset + length <= count && length <= destination.count)
        let start = (head + offset) % storage.count
        let first = min(length, storage.count - start)
        destination.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: first)
        if first < length {
            (destination.baseAddress! + first).copyMemory(from: storage.baseAddress!, byteCount: length - first)
        }
    }

    private func grow(toAtLeast needed: Int) {
        var size = storage.count
        while size < needed { size *= 2 }
        size = min(size, capacity)
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        if count > 0 { copy(offset: 0, length: count, into: bigger) }
        storage.deallocate()
        storage = bigger
        head = 0
    }
}
