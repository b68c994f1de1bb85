import NetworkAddress
import TestSupport
import Testing

/// The IPv4 cases the route planner relies on (moved from VIF's tests with the type).
@Suite struct IPv4SubnetTests {
    @Test func parsesAndNormalizes() throws {
        #expect(IPSubnet("10.96.0.0/16")?.description == "10.96.0.0/16")
        #expect(IPSubnet("10.96.7.9/16")?.description == "10.96.0.0/16")
        #expect(IPSubnet(addressOrCIDR: "192.0.2.1")?.description == "192.0.2.1/32")
        #expect(IPSubnet("0.0.0.0/0").map(size) == 1 << 32)
        for bad in ["", "10.0.0.0/", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/8/1", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/٨"] {
            #expect(IPSubnet(bad) == nil, "\(bad) must not parse")
        }
    }

    @Test func containsAndOverlaps() throws {
        let services = try #require(IPSubnet("10.96.0.0/16"))
        #expect(services.contains(try #require(IPv4Address("10.96.255.255"))))
        #expect(!services.contains(try #require(IPv4Address("10.97.0.0"))))
        #expect(services.contains(try #require(IPSubnet("10.96.3.0/24"))))
        #expect(!services.contains(try #require(IPSubnet("10.0.0.0/8"))))
        #expect(services.overlaps(try #require(IPSubnet("10.0.0.0/8"))))
        #expect(!services.overlaps(try #require(IPSubnet("10.244.0.0/16"))))
        #expect(services.last.description == "10.96.255.255")
    }

    @Test func subtractingAHostLeavesTheFewestBlocks() throws {
        let pods = try #require(IPSubnet("10.244.0.0/16"))
        let rest = pods.subtracting(try #require(IPSubnet("10.244.0.1/32")))
        #expect(rest.count == 16)
        #expect(rest.map(size).reduce(0, +) == size(pods) - 1)
        #expect(pods.subtracting(pods) == [])
        #expect(pods.subtracting(try #require(IPSubnet("10.0.0.0/8"))) == [])
        #expect(pods.subtracting(try #require(IPSubnet("10.96.0.0/16"))) == [pods])
    }

    /// For random pairs, the difference covers exactly the addresses of A not in B, with no
    /// overlap among its blocks: checked on sample addresses and by size.
    @Test func subtractionIsExactForRandomPairs() {
        var rng = SeededGenerator(seed: 0xC1D2)
        for _ in 0..<500 {
            let base = UInt32.random(in: 0...UInt32.max, using: &rng)
            let a = IPSubnet(IPv4Address(base), prefixLength: Int.random(in: 8...28, using: &rng))
            let inside = a.address.v4!.value | (UInt32.random(in: 0...UInt32.max, using: &rng) & ~mask(a))
            let b = IPSubnet(IPv4Address(inside), prefixLength: Int.random(in: a.prefixLength...32, using: &rng))
            let difference = a.subtracting(b)
            #expect(difference.map(size).reduce(0, +) == size(a) - size(b))
            for (i, x) in difference.enumerated() {
                #expect(a.contains(x) && !x.overlaps(b))
                for y in difference[(i + 1)...] { #expect(!x.overlaps(y)) }
            }
            for _ in 0..<20 {
                let address = IPv4Address(a.address.v4!.value | (UInt32.random(in: 0...UInt32.max, using: &rng) & ~mask(a)))
                #expect(difference.contains { $0.contains(address) } == !b.contains(address))
            }
        }
    }

    func size(_ subnet: IPSubnet) -> UInt64 { UInt64(1) << UInt64(32 - subnet.prefixLength) }
    func mask(_ subnet: IPSubnet) -> UInt32 { subnet.ipv4Mask!.value }
}
