import NetworkAddress

/// The Internet checksum (RFC 1071), summed 64 bits at a time.
///
/// Words are added in memory order rather than network order: the one's-complement sum is
/// byte-order independent, so storing the folded result back in memory order yields the right
/// bytes on any host and saves a byte swap per word.
public enum InternetChecksum {
    /// Adds `bytes` to a running sum (not folded). Only the last part of a checksummed region
    /// may have an odd length.
    @inlinable
    public static func add(_ bytes: UnsafeRawBufferPointer, to initial: UInt64 = 0) -> UInt64 {
        guard let base = bytes.baseAddress else { return initial }
        let n = bytes.count
        var sum = initial
        var carries: UInt64 = 0
        var i = 0
        while i &+ 32 <= n {
            let a = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let b = base.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
            let c = base.loadUnaligned(fromByteOffset: i &+ 16, as: UInt64.self)
            let d = base.loadUnaligned(fromByteOffset: i &+ 24, as: UInt64.self)
            var o: Bool
            (sum, o) = sum.addingReportingOverflow(a); carries &+= o ? 1 : 0
            (sum, o) = sum.addingReportingOverflow(b); carries &+= o ? 1 : 0
            (sum, o) = sum.addingReportingOverflow(c); carries &+= o ? 1 : 0
            (sum, o) = sum.addingReportingOverflow(d); carries &+= o ? 1 : 0
            i &+= 32
        }
        while i &+ 8 <= n {
            let o: Bool
            (sum, o) = sum.addingReportingOverflow(base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            carries &+= o ? 1 : 0
            i &+= 8
        }
        var tail: UInt64 = 0
        if i &+ 4 <= n {
            tail &+= UInt64(base.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            i &+= 4
        }
        if i &+ 2 <= n {
            tail &+= UInt64(base.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i &+= 2
        }
        if i < n {
            // A lone last byte is the first byte of a 16-bit word padded with zero.
            var word: UInt16 = 0
            withUnsafeMutableBytes(of: &word) { $0[0] = base.load(fromByteOffset: i, as: UInt8.self) }
            tail &+= UInt64(word)
        }
        let o: Bool
        (sum, o) = sum.addingReportingOverflow(tail)
        carries &+= o ? 1 : 0
        return add(carries, to: sum)
    }

    /// Adds a 64-bit quantity with end-around carry.
    @inlinable
    public static func add(_ value: UInt64, to sum: UInt64) -> UInt64 {
        let (s, o) = sum.addingReportingOverflow(value)
        return o ? s &+ 1 : s
    }

    /// Folds a running sum to 16 bits (still in memory order, not complemented).
    @inlinable
    public static func fold(_ sum: UInt64) -> UInt16 {
        var s = (sum & 0xffff_ffff) &+ (sum >> 32)
        s = (s & 0xffff_ffff) &+ (s >> 32)
        s = (s & 0xffff) &+ (s >> 16)
        s = (s & 0xffff) &+ (s >> 16)
        return UInt16(truncatingIfNeeded: s)
    }

    /// The checksum field value (memory order: store it with `storeBytes`, no byte swap).
    @inlinable
    public static func finish(_ sum: UInt64) -> UInt16 { ~fold(sum) }

    /// The IPv4 pseudo-header's contribution for TCP or UDP.
    @inlinable
    public static func pseudoHeaderV4(
        source: IPv4Address, destination: IPv4Address, protocol proto: UInt8, length: Int
    ) -> UInt64 {
        UInt64(source.value.bigEndian) &+ UInt64(destination.value.bigEndian)
            &+ UInt64(UInt16(proto).bigEndian) &+ UInt64(UInt16(truncatingIfNeeded: length).bigEndian)
    }

    /// The IPv6 pseudo-header's contribution (RFC 8200 §8.1).
    @inlinable
    public static func pseudoHeaderV6(
        source: IPv6Address, destination: IPv6Address, nextHeader: UInt8, length: Int
    ) -> UInt64 {
        var sum = add(source.high.bigEndian, to: source.low.bigEndian)
        sum = add(destination.high.bigEndian, to: sum)
        sum = add(destination.low.bigEndian, to: sum)
        sum = add(UInt64(UInt32(truncatingIfNeeded: length).bigEndian), to: sum)
        return add(UInt64(UInt32(nextHeader).bigEndian), to: sum)
    }

    /// The pseudo-header sum for a flow's addresses (both of one family).
    @inlinable
    public static func pseudoHeader(
        source: IPAddress, destination: IPAddress, protocol proto: UInt8, length: Int
    ) -> UInt64 {
        switch (source, destination) {
        case (.v4(let s), .v4(let d)): pseudoHeaderV4(source: s, destination: d, protocol: proto, length: length)
        case (.v6(let s), .v6(let d)): pseudoHeaderV6(source: s, destination: d, nextHeader: proto, length: length)
        default: preconditionFailure("a flow's addresses are of one family")
        }
    }

    /// Whether a region that includes its own checksum field sums to all ones.
    @inlinable
    public static func verifies(_ bytes: UnsafeRawBufferPointer, initial: UInt64 = 0) -> Bool {
        fold(add(bytes, to: initial)) == 0xffff
    }
}
