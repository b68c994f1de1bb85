import NetworkAddress
import Testing
import TestSupport

@Suite struct SubnetTests {
    @Test func parsesAndNormalizes() throws {
        #expect(IPSubnet("10.96.0.1/16")?.description == "10.96.0.0/16")
        #expect(IPSubnet("fd00:10:96::a/108")?.description == "fd00:10:96::/108")
        #expect(IPSubnet("0.0.0.0/0")?.description == "0.0.0.0/0")
        #expect(IPSubnet("::/0")?.description == "::/0")
        for bad in ["10.0.0.0", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "/8", "x/8", "10.0.0.0/8/8"] {
            #expect(IPSubnet(bad) == nil, "\(bad)")
        }
        #expect(IPSubnet(addressOrCIDR: "10.0.0.7")?.description == "10.0.0.7/32")
        #expect(IPSubnet(addressOrCIDR: "::1")?.description == "::1/128")
        #expect(IPSubnet("10.244.0.0/16")?.ipv4Mask?.description == "255.255.0.0")
        #expect(IPSubnet("10.244.0.0/16")?.last.description == "10.244.255.255")
        #expect(IPSubnet("fd00::/64")?.last.description == "fd00::ffff:ffff:ffff:ffff")
    }

    @Test func containmentKeepsFamiliesApart() throws {
        let v4 = try #require(IPSubnet("10.96.0.0/12"))
        let v6 = try #require(IPSubnet("fd00::/8"))
        #expect(v4.contains(IPv4Address("10.111.255.255")!))
        #expect(!v4.contains(IPv4Address("10.112.0.0")!))
        #expect(v6.contains(IPv6Address("fdff::1")!))
        #expect(!v6.contains(IPAddress("10.96.0.1")!))
        #expect(!v4.overlaps(v6))
        #expect(IPSubnet("0.0.0.0/0")!.contains(IPAddress("255.255.255.255")!))
    }

    @Test func subtractionLeavesTheFewestBlocks() throws {
        let whole = try #require(IPSubnet("10.0.0.0/8"))
        let hole = try #require(IPSubnet("10.96.0.0/12"))
        let rest = whole.subtracting(hole)
        #expect(rest.map(\.description) == ["10.0.0.0/10", "10.64.0.0/11", "10.112.0.0/12", "10.128.0.0/9"])
        #expect(whole.subtracting(whole).isEmpty)
        #expect(hole.subtracting(whole).isEmpty)
        #expect(whole.subtracting(IPSubnet("11.0.0.0/8")!) == [whole])
        #expect(IPSubnet("fd00::/16")!.subtracting(IPSubnet("fd00::/18")!).map(\.description) == ["fd00:4000::/18", "fd00:8000::/17"])
    }

    /// For random pairs: the remainder is disjoint from the hole, inside the whole, pairwise
    /// disjoint, and with the hole accounts for every address of the whole (checked by size).
    @Test func subtractionPropertiesHold() {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<3000 {
            let family = Bool.random(using: &random)
            func subnet() -> IPSubnet {
                if family {
                    return IPSubnet(IPv4Address(UInt32.random(in: 0...UInt32.max, using: &random) & 0xFF00_FFFF | 0x0A00_0000),
                                    prefixLength: Int.random(in: 4...32, using: &random))
                }
                return IPSubnet(IPv6Address(high: 0xfd00_0000_0000_0000 | UInt64.random(in: 0...0xff, using: &random) << 40,
                                            low: UInt64.random(in: 0...UInt64.max, using: &random)),
                                prefixLength: Int.random(in: 8...128, using: &random))
            }
            let whole = subnet()
            let hole = subnet()
            let rest = whole.subtracting(hole)
            for block in rest {
                #expect(whole.contains(block))
                #expect(!block.overlaps(hole))
            }
            for (i, a) in rest.enumerated() {
                for b in rest[(i + 1)...] { #expect(!a.overlaps(b)) }
            }
            if whole.overlaps(hole), !hole.contains(whole) {
                // the remainder plus the hole is the whole, counted in addresses
                let width = whole.family.bitWidth
                let total = rest.reduce(UInt128(0)) { $0 + size(width - $1.prefixLength) } + size(width - hole.prefixLength)
                #expect(total == size(width - whole.prefixLength))
            }
        }
    }

    @Test func nestedBlocksAreDropped() {
        let subnets = ["10.0.0.0/8", "10.1.0.0/16", "10.1.0.0/16", "192.168.0.0/16", "fd00::/8", "fd00:1::/32"].compactMap { IPSubnet($0) }
        #expect(subnets.withoutNested().map(\.description) == ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"])
    }
}

/// 2^bits addresses (the generator keeps prefixes long enough for this to fit).
private func size(_ bits: Int) -> UInt128 { UInt128(1) << UInt128(bits) }
