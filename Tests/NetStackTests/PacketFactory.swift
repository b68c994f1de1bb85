@testable import NetStack
import NetworkAddress

/// Builds and reads packets byte by byte, independently of NetStack's own wire code, so the
/// tests cross-check its encoder, parser and checksums.
enum PacketFactory {
    static let client = IPv4Address(10, 251, 0, 1)
    static let server = IPv4Address(10, 252, 0, 5)

    /// The RFC 1071 checksum, the slow obvious way (network-order 16-bit words).
    static func naiveChecksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }

    static func ipv4(source: IPv4Address = client, destination: IPv4Address = server, protocol proto: UInt8,
                     payload: [UInt8], flagsFragment: UInt16 = 0x4000) -> [UInt8] {
        var h: [UInt8] = [0x45, 0] + be16(UInt16(20 + payload.count)) + be16(0x1234) + be16(flagsFragment)
            + [64, proto, 0, 0] + be32(source.value) + be32(destination.value)
        let c = naiveChecksum(h)
        h[10] = UInt8(c >> 8)
        h[11] = UInt8(c & 0xff)
        return h + payload
    }

    static let client6 = IPv6Address(high: 0xfd00_0251_0000_0000, low: 1)
    static let server6 = IPv6Address(high: 0xfd00_0252_0000_0000, low: 5)

    static func be64(_ v: UInt64) -> [UInt8] { be32(UInt32(v >> 32)) + be32(UInt32(v & 0xffff_ffff)) }

    /// An IPv6 packet with a transport checksum computed over the IPv6 pseudo-header.
    static func ipv6(nextHeader: UInt8, transport: [UInt8], checksumOffset: Int) -> [UInt8] {
        var t = transport
        let pseudo = be64(client6.high) + be64(client6.low) + be64(server6.high) + be64(server6.low)
            + be32(UInt32(t.count)) + [0, 0, 0, nextHeader]
        var c = naiveChecksum(pseudo + t)
        if nextHeader == 17 && c == 0 { c = 0xffff }
        t[checksumOffset] = UInt8(c >> 8)
        t[checksumOffset + 1] = UInt8(c & 0xff)
        return [0x60, 0, 0, 0] + be16(UInt16(t.count)) + [nextHeader, 64]
            + be64(client6.high) + be64(client6.low) + be64(server6.high) + be64(server6.low) + t
    }

    static func tcp6(seq: UInt32, ack: UInt32 = 0, flags: TCPFlags, payload: [UInt8] = []) -> [UInt8] {
        let t: [UInt8] = be16(40000) + be16(80) + be32(seq) + be32(ack) + [5 << 4, flags.rawValue] + be16(65535)
            + [0, 0, 0, 0] + payload
        return ipv6(nextHeader: 6, transport: t, checksumOffset: 16)
    }

    static func udp6(payload: [UInt8]) -> [UInt8] {
        ipv6(nextHeader: 17, transport: be16(50000) + be16(53) + be16(UInt16(8 + payload.count)) + [0, 0] + payload,
             checksumOffset: 6)
    }

    static func pseudo(_ s: IPv4Address, _ d: IPv4Address, _ proto: UInt8, _ length: Int) -> [UInt8] {
        be32(s.value) + be32(d.value) + [0, proto] + be16(UInt16(length))
    }

    static func tcp(sourcePort: UInt16 = 40000, destinationPort: UInt16 = 80, seq: UInt32, ack: UInt32 = 0,
                    flags: TCPFlags, window: UInt16 = 65535, options: [UInt8] = [], payload: [UInt8] = [],
                    source: IPv4Address = client, destination: IPv4Address = server) -> [UInt8] {
        precondition(options.count % 4 == 0)
        var t: [UInt8] = be16(sourcePort) + be16(destinationPort) + be32(seq) + be32(ack)
            + [UInt8((20 + options.count) / 4) << 4, flags.rawValue] + be16(window) + [0, 0, 0, 0] + options + payload
        let c = naiveChecksum(pseudo(source, destination, 6, t.count) + t)
        t[16] = UInt8(c >> 8)
        t[17] = UInt8(c & 0xff)
        return ipv4(source: source, destination: destination, protocol: 6, payload: t)
    }

    static func udp(sourcePort: UInt16 = 50000, destinationPort: UInt16 = 53, payload: [UInt8]) -> [UInt8] {
        var u: [UInt8] = be16(sourcePort) + be16(destinationPort) + be16(UInt16(8 + payload.count)) + [0, 0] + payload
        var c = naiveChecksum(pseudo(client, server, 17, u.count) + u)
        if c == 0 { c = 0xffff }
        u[6] = UInt8(c >> 8)
        u[7] = UInt8(c & 0xff)
        return ipv4(protocol: 17, payload: u)
    }

    /// SYN options as Linux sends them: MSS, SACK-permitted, timestamps, NOP, window scale.
    static func linuxSynOptions(mss: UInt16 = 1460, scale: UInt8 = 7) -> [UInt8] {
        [2, 4] + be16(mss) + [4, 2, 8, 10] + be32(1) + be32(0) + [1, 3, 3, scale]
    }

    /// A TCP segment read back from an emitted packet, with both checksums verified naively.
    struct Segment {
        var sourcePort: UInt16, destinationPort: UInt16
        var seq: UInt32, ack: UInt32
        var flags: TCPFlags
        var window: UInt16
        var options: [UInt8]
        var payload: [UInt8]
        var checksumsValid: Bool
    }

    static func readTCP(_ p: [UInt8]) -> Segment? {
        guard p.count >= 40, p[0] == 0x45, p[9] == 6 else { return nil }
        let total = Int(p[2]) << 8 | Int(p[3])
        guard total == p.count else { return nil }
        let ipOK = naiveChecksum(Array(p[0..<20])) == 0
        let t = Array(p[20...])
        let tcpOK = naiveChecksum(pseudo(IPv4Address(u32(p, 12)), IPv4Address(u32(p, 16)), 6, t.count) + t) == 0
        let offset = Int(t[12] >> 4) * 4
        return Segment(
            sourcePort: UInt16(t[0]) << 8 | UInt16(t[1]), destinationPort: UInt16(t[2]) << 8 | UInt16(t[3]),
            seq: u32(t, 4), ack: u32(t, 8), flags: TCPFlags(rawValue: t[13]), window: UInt16(t[14]) << 8 | UInt16(t[15]),
            options: Array(t[20..<offset]), payload: Array(t[offset...]), checksumsValid: ipOK && tcpOK)
    }

    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
