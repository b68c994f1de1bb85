/// A TCP sequence number: 32-bit arithmetic modulo 2^32, compared by signed distance
/// (RFC 1982), so ordering holds across wrap-around for windows under 2 GiB.
struct SequenceNumber: Hashable, Comparable, Sendable, CustomStringConvertible {
    var rawValue: UInt32

    init(_ rawValue: UInt32) { self.rawValue = rawValue }

    static func + (lhs: SequenceNumber, rhs: Int) -> SequenceNumber {
        SequenceNumber(lhs.rawValue &+ UInt32(truncatingIfNeeded: rhs))
    }

    static func += (lhs: inout SequenceNumber, rhs: Int) { lhs = lhs + rhs }

    /// The signed distance `lhs - rhs`.
    static func - (lhs: SequenceNumber, rhs: SequenceNumber) -> Int {
        Int(Int32(bitPattern: lhs.rawValue &- rhs.rawValue))
    }

    static func < (lhs: SequenceNumber, rhs: SequenceNumber) -> Bool { lhs - rhs < 0 }

    var description: String { String(rawValue) }
}
