import NetStack
import TestSupport
import Testing
@testable import VIF

@Suite struct IPv4SubnetTests {
    @Test func parsesAndNormalizes() throws {
        #expect(IPv4Subnet("10.96.0.0/16")?.description == "10.96.0.0/16")
        #expect(IPv4Subnet("10.96.7.9/16")?.description == "10.96.0.0/16")
        #expect(IPv4Subnet("192.0.2.1")?.description == "192.0.2.1/32")
        #expect(IPv4Subnet("0.0.0.0/0")?.size == 1 << 32)
        for bad in ["", "10.0.0.0/", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/8/1", "10.0.0.0/-1", "10.0.0.0/+8", "fd00::/8", "10.0.0.0/٨"] {
            #expect(IPv4Subnet(bad) == nil, "\(bad) must not parse")
        }
    }

    @Test func containsAndOverlaps() throws {
        let services = try #require(IPv4Subnet("10.96.0.0/16"))
        #expect(services.contains(try #require(IPv4Address("10.96.255.255"))))
        #expect(!services.contains(try #require(IPv4Address("10.97.0.0"))))
        #expect(services.contains(try #require(IPv4Subnet("10.96.3.0/24"))))
        #expect(!services.contains(try #require(IPv4Subnet("10.0.0.0/8"))))
        #expect(services.overlaps(try #require(IPv4Subnet("10.0.0.0/8"))))
        #expect(!services.overlaps(try #require(IPv4Subnet("10.244.0.0/16"))))
        #expect(services.last.description == "10.96.255.255")
    }

    @Test func subtractingAHostLeavesTheFewestBlocks() throws {
        let pods = try #require(IPv4Subnet("10.244.0.0/16"))
        let rest = pods.subtracting(try #require(IPv4Subnet("10.244.0.1/32")))
        #expect(rest.count == 16)
        #expect(rest.map(\.size).reduce(0, +) == pods.size - 1)
        #expect(pods.subtracting(pods) == [])
        #expect(pods.subtracting(try #require(IPv4Subnet("10.0.0.0/8"))) == [])
        #expect(pods.subtracting(try #require(IPv4Subnet("10.96.0.0/16"))) == [pods])
    }

    /// For random pairs, the difference covers exactly the addresses of A not in B, with no
    /// overlap among its blocks: checked on sample addresses and by size.
    @Test func subtractionIsExactForRandomPairs() {
        var rng = SeededGenerator(seed: 0xC1D2)
        for _ in 0..<500 {
            let base = UInt32.random(in: 0...UInt32.max, using: &rng)
            let a = IPv4Subnet(IPv4Address(base), prefixLength: Int.random(in: 8...28, using: &rng))
            let inside = a.network.value | (UInt32.random(in: 0...UInt32.max, using: &rng) & ~a.mask)
            let b = IPv4Subnet(IPv4Address(inside), prefixLength: Int.random(in: a.prefixLength...32, using: &rng))
            let difference = a.subtracting(b)
            #expect(difference.map(\.size).reduce(0, +) == a.size - b.size)
            for (i, x) in difference.enumerated() {
                #expect(a.contains(x) && !x.overlaps(b))
                for y in difference[(i + 1)...] { #expect(!x.overlaps(y)) }
            }
            for _ in 0..<20 {
                let address = IPv4Address(a.network.value | (UInt32.random(in: 0...UInt32.max, using: &rng) & ~a.mask))
                #expect(difference.contains { $0.contains(address) } == !b.contains(address))
            }
        }
    }
}

@Suite struct KernelRouteTests {
    static let procNetRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        eth0\t00000000\t0100A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
        eth0\t0000A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
        docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
        down0\t0000000A\t00000000\t0000\t0\t0\t0\t000000FF\t0\t0\t0
        odd0\t0000000A\t00000000\t0001\t0\t0\t0\t00FF00FF\t0\t0\t0
        garbage line
        """

    @Test func parsesTheKernelsTable() {
        let routes = KernelRoute.parseProcNetRoute(Self.procNetRoute)
        #expect(routes.map(\.description) == [
            "default via 192.168.0.1 dev eth0", "192.168.0.0/24 dev eth0", "172.17.0.0/16 dev docker0",
        ])
        #expect(routes.first?.metric == 100)
    }
}

@Suite struct RoutePlanTests {
    func subnets(_ list: String...) -> [IPv4Subnet] { list.compactMap { IPv4Subnet($0) } }

    @Test func routesTheClusterAndKeepsTheAPIServerLocal() throws {
        let plan = try RoutePlan.make(.init(
            clusterSubnets: subnets("10.96.0.0/16", "10.244.0.0/16", "10.96.0.0/24"),
            keepLocal: [try #require(IPv4Address("10.244.0.1"))], device: "tel0"), routes: [])
        #expect(!plan.routes.contains { $0.contains(try! #require(IPv4Address("10.244.0.1"))) })
        #expect(plan.routes.contains(try #require(IPv4Subnet("10.96.0.0/16"))))
        #expect(plan.routes.map(\.size).reduce(0, +) == 2 * 65536 - 1)
    }

    @Test func alsoAndNeverProxy() throws {
        let plan = try RoutePlan.make(.init(
            clusterSubnets: subnets("10.96.0.0/16"), alsoProxy: subnets("198.51.100.0/24"),
            neverProxy: subnets("10.96.128.0/17"), device: "tel0"), routes: [])
        #expect(plan.routes == subnets("10.96.0.0/17", "198.51.100.0/24"))
    }

    @Test func aMoreSpecificLocalRouteIsAConflictNamedInTheError() throws {
        let local = KernelRoute(destination: try #require(IPv4Subnet("10.244.3.0/24")), device: "br-lab")
        #expect(throws: RoutePlanError.conflict(subnet: try #require(IPv4Subnet("10.244.0.0/16")), route: local)) {
            try RoutePlan.make(.init(clusterSubnets: subnets("10.244.0.0/16"), device: "tel0"), routes: [local])
        }
        let message = RoutePlanError.conflict(subnet: IPv4Subnet("10.244.0.0/16")!, route: local).description
        #expect(message.contains("10.244.3.0/24 dev br-lab") && message.contains("--allow-conflicting-subnets 10.244.3.0/24"))
        // Allowed explicitly, or left local with --never-proxy: no error.
        let allowed = try RoutePlan.make(.init(clusterSubnets: subnets("10.244.0.0/16"), allowConflicting: subnets("10.244.3.0/24"), device: "tel0"), routes: [local])
        #expect(allowed.allowedConflicts == [local])
        let never = try RoutePlan.make(.init(clusterSubnets: subnets("10.244.0.0/16"), neverProxy: subnets("10.244.3.0/24"), device: "tel0"), routes: [local])
        #expect(!never.routes.contains { $0.overlaps(local.destination) })
    }

    @Test func widerLocalRoutesDefaultRoutesAndOurOwnAreNoConflict() throws {
        let routes = [
            KernelRoute(destination: try #require(IPv4Subnet("10.0.0.0/8")), device: "vpn0"),
            KernelRoute(destination: try #require(IPv4Subnet("0.0.0.0/0")), gateway: IPv4Address("192.168.0.1"), device: "eth0"),
            KernelRoute(destination: try #require(IPv4Subnet("10.96.0.0/16")), device: "tel0"),
        ]
        let plan = try RoutePlan.make(.init(clusterSubnets: subnets("10.96.0.0/16"), device: "tel0"), routes: routes)
        #expect(plan.routes == subnets("10.96.0.0/16"))
    }
}

@Suite struct LiveRouteTableTests {
    /// This machine's own table reads back: whatever is there, each route parses to a device
    /// name and a normalized subnet (the loopback-only namespace of a fresh netns has none).
    @Test func readsThisMachinesTable() {
        for route in KernelRoute.current() {
            #expect(!route.device.isEmpty)
            #expect(IPv4Subnet(route.destination.description) == route.destination)
        }
    }
}
