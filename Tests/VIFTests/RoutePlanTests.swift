import NetworkAddress
import TestSupport
import Testing
@testable import VIF

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
    func subnets(_ list: String...) -> [IPSubnet] { list.compactMap { IPSubnet($0) } }
    func size(_ subnet: IPSubnet) -> Int { 1 << (32 - subnet.prefixLength) }

    @Test func routesTheClusterAndKeepsTheAPIServerLocal() throws {
        let plan = try RoutePlan.make(.init(
            clusterSubnets: subnets("10.96.0.0/16", "10.244.0.0/16", "10.96.0.0/24"),
            keepLocal: [try #require(IPAddress("10.244.0.1"))], device: "tel0"), routes: [])
        #expect(!plan.routes.contains { $0.contains(try! #require(IPv4Address("10.244.0.1"))) })
        #expect(plan.routes.contains(try #require(IPSubnet("10.96.0.0/16"))))
        #expect(plan.routes.map(size).reduce(0, +) == 2 * 65536 - 1)
    }

    /// The device takes IPv4 routes only: an IPv6 cluster subnet is set aside and named, not
    /// dropped unseen.
    @Test func ipv6SubnetsAreSetAsideAsUnsupported() throws {
        let plan = try RoutePlan.make(.init(clusterSubnets: subnets("10.96.0.0/16", "fd00:10:96::/108"), device: "tel0"), routes: [])
        #expect(plan.routes.map(\.description) == ["10.96.0.0/16"])
        #expect(plan.unsupported.map(\.description) == ["fd00:10:96::/108"])
    }

    @Test func alsoAndNeverProxy() throws {
        let plan = try RoutePlan.make(.init(
            clusterSubnets: subnets("10.96.0.0/16"), alsoProxy: subnets("198.51.100.0/24"),
            neverProxy: subnets("10.96.128.0/17"), device: "tel0"), routes: [])
        #expect(plan.routes == subnets("10.96.0.0/17", "198.51.100.0/24"))
    }

    @Test func aMoreSpecificLocalRouteIsAConflictNamedInTheError() throws {
        let local = KernelRoute(destination: try #require(IPSubnet("10.244.3.0/24")), device: "br-lab")
        #expect(throws: RoutePlanError.conflict(subnet: try #require(IPSubnet("10.244.0.0/16")), route: local)) {
            try RoutePlan.make(.init(clusterSubnets: subnets("10.244.0.0/16"), device: "tel0"), routes: [local])
        }
        let message = RoutePlanError.conflict(subnet: IPSubnet("10.244.0.0/16")!, route: local).description
        #expect(message.contains("10.244.3.0/24 dev br-lab") && message.contains("--allow-conflicting-subnets 10.244.3.0/24"))
        // Allowed explicitly, or left local with --never-proxy: no error.
        let allowed = try RoutePlan.make(.init(clusterSubnets: subnets("10.244.0.0/16"), allowConflicting: subnets("10.244.3.0/24"), device: "tel0"), routes: [local])
        #expect(allowed.allowedConflicts == [local])
        let never = try RoutePlan.make(.init(clusterSubnets: subnets("10.244.0.0/16"), neverProxy: subnets("10.244.3.0/24"), device: "tel0"), routes: [local])
        #expect(!never.routes.contains { $0.overlaps(local.destination) })
    }

    @Test func widerLocalRoutesDefaultRoutesAndOurOwnAreNoConflict() throws {
        let routes = [
            KernelRoute(destination: try #require(IPSubnet("10.0.0.0/8")), device: "vpn0"),
            KernelRoute(destination: try #require(IPSubnet("0.0.0.0/0")), gateway: IPv4Address("192.168.0.1"), device: "eth0"),
            KernelRoute(destination: try #require(IPSubnet("10.96.0.0/16")), device: "tel0"),
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
            #expect(IPSubnet(route.destination.description) == route.destination)
        }
    }
}
