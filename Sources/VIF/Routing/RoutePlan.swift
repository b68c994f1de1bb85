import NetworkAddress

/// Which subnets the TUN device gets routes for, decided before any route is touched.
///
/// The cluster's pod and service subnets plus `--also-proxy`, minus `--never-proxy` and the API
/// server's own address (its connection carries the tunnel, so routing it into the tunnel would
/// cut the branch we sit on). A subnet that a more specific or equal local route already
/// claims is a conflict: longest-prefix match would send part of the cluster's traffic to that
/// local network, so we refuse, naming the route, unless `--allow-conflicting-subnets` covers
/// it. A wider local route (a VPN's 10.0.0.0/8, say) is no conflict: our more specific route
/// wins for the cluster's addresses, which is what the user asked for.
public struct RoutePlan: Equatable, Sendable {
    /// The subnets to route to the TUN device, without overlaps, sorted.
    public var routes: [IPSubnet]
    /// Subnets asked for that cannot be routed yet (IPv6: the device gets IPv4 routes only),
    /// so that status can say so instead of dropping them unseen.
    public var unsupported: [IPSubnet] = []
    /// Local routes the plan overrides because `--allow-conflicting-subnets` allowed it.
    public var allowedConflicts: [KernelRoute]

    public struct Request: Sendable {
        public var clusterSubnets: [IPSubnet]
        public var alsoProxy: [IPSubnet]
        public var neverProxy: [IPSubnet]
        public var allowConflicting: [IPSubnet]
        /// Addresses that must stay off the TUN device (the API server's).
        public var keepLocal: [IPAddress]
        /// The TUN device's own name: its routes are ours, never conflicts.
        public var device: String

        public init(
            clusterSubnets: [IPSubnet], alsoProxy: [IPSubnet] = [], neverProxy: [IPSubnet] = [],
            allowConflicting: [IPSubnet] = [], keepLocal: [IPAddress] = [], device: String
        ) {
            self.clusterSubnets = clusterSubnets
            self.alsoProxy = alsoProxy
            self.neverProxy = neverProxy
            self.allowConflicting = allowConflicting
            self.keepLocal = keepLocal
            self.device = device
        }
    }

    /// Plans the routes against the kernel's current `routes`.
    public static func make(_ request: Request, routes localRoutes: [KernelRoute]) throws(RoutePlanError) -> RoutePlan {
        let asked = (request.clusterSubnets + request.alsoProxy).withoutNested()
        var wanted = asked.filter { $0.family == .v4 }
        let unsupported = asked.filter { $0.family != .v4 }
        let excluded = request.neverProxy + request.keepLocal.map { IPSubnet(host: $0) }
        for exclusion in excluded {
            wanted = wanted.flatMap { $0.subtracting(exclusion) }
        }
        wanted = wanted.withoutNested()

        var allowed: [KernelRoute] = []
        for route in localRoutes where route.device != request.device && route.device != "lo" && route.destination.prefixLength > 0 {
            // Only a local route inside (or equal to) one of ours takes addresses from us.
            guard let ours = wanted.first(where: { $0.contains(route.destination) }) else { continue }
            if request.allowConflicting.contains(where: { $0.overlaps(route.destination) }) {
                allowed.append(route)
                continue
            }
            throw .conflict(subnet: ours, route: route)
        }
        return RoutePlan(routes: wanted, unsupported: unsupported, allowedConflicts: allowed)
    }
}

public enum RoutePlanError: Error, Equatable, Sendable, CustomStringConvertible {
    case conflict(subnet: IPSubnet, route: KernelRoute)

    public var description: String {
        switch self {
        case .conflict(let subnet, let route):
            "the cluster subnet \(subnet) conflicts with the local route '\(route)': traffic for \(route.destination) would "
                + "stay on this machine's network; pass --allow-conflicting-subnets \(route.destination) to route it to the "
                + "cluster anyway, or --never-proxy \(route.destination) to leave it local"
        }
    }
}
