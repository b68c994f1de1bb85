/// Segments that arrived ahead of RCV.NXT, kept sorted by sequence number and bounded in
/// bytes. On a TUN they come only after a queue overflow dropped an earlier segment; keeping
/// them saves the kernel resending the whole flight after its fast retransmit.
struct OutOfOrderQueue {
    struct Entry {
        var sequence: SequenceNumber
        var bytes: [UInt8]
        var fin: Bool
        var end: SequenceNumber { sequence + bytes.count }
    }

    private(set) var entries: [Entry] = []
    private(set) var byteCount = 0

    var isEmpty: Bool { entries.isEmpty }

    /// Stores a copy of the segment unless it would exceed `limit` or duplicates one we hold.
    mutating func insert(sequence: SequenceNumber, bytes: UnsafeRawBufferPointer, fin: Bool, limit: Int) -> Bool {
        guard byteCount + bytes.count <= limit else { return false }
        var index = entries.count
        for (i, e) in entries.enumerated() {
            if e.sequence == sequence && e.bytes.count >= bytes.count { return true }
            if sequence < e.sequence { index = i; break }
        }
        entries.insert(Entry(sequence: sequence, bytes: Array(bytes), fin: fin), at: index)
        byteCount += bytes.count
        return true
    }

    /// Removes and returns the first entry if it starts at or before `next`.
    mutating func popReady(at next: SequenceNumber) -> Entry? {
        guard let first = entries.first, !(next < first.sequence) else { return nil }
        entries.removeFirst()
        byteCount -= first.bytes.count
        return first
    }
}
