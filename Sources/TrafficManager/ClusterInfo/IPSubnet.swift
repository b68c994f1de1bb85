import Foundation

/// An IPv4 or IPv6 subnet (address and prefix length), as the cluster's pod and service ranges
/// are written (`10.96.0.0/12`, `fd00::/108`).
public struct IPSubnet: Sendable, Hashable, CustomStringConvertible, Comparable {
    /// The network address's bytes (4 or 16), with the host bits cleared.
    public let bytes: [UInt8]
    public let prefixLength: Int

    /// Parses `a.b.c.d/n` or `v6/n`; clears host bits. Nil when the text is not a subnet.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let prefix = Int(parts[1]), let address = IPSubnet.addressBytes(String(parts[0])) else {
            return nil
        }
        self.init(bytes: address, prefixLength: prefix)
    }

    /// A subnet from address bytes (4 or 16) and a prefix length; host bits are cleared.
    public init?(bytes: [UInt8], prefixLength: Int) {
        guard bytes.count == 4 || bytes.count == 16, (0...(bytes.count * 8)).contains(prefixLength) else { return nil }
        var masked = bytes
        for i in 0..<masked.count {
            let bitsInByte = max(0, min(8, prefixLength - i * 8))
            masked[i] &= bitsInByte == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsInByte))
        }
        self.bytes = masked
        self.prefixLength = prefixLength
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// Whether `address` (4 or 16 bytes) lies in this subnet.
    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        return IPSubnet(bytes: address, prefixLength: prefixLength)?.bytes == bytes
    }

    public var description: String { "\(IPSubnet.format(bytes))/\(prefixLength)" }

    public static func < (a: IPSubnet, b: IPSubnet) -> Bool {
        if a.bytes.count != b.bytes.count { return a.bytes.count < b.bytes.count }
        if a.bytes != b.bytes { return a.bytes.lexicographicallyPrecedes(b.bytes) }
        return a.prefixLength < b.prefixLength
    }

    /// The bytes of an IPv4 or IPv6 address in text, or nil.
    public static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// The text form of 4 or 16 address bytes.
    public static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
