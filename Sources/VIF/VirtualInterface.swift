#if os(Linux)
import LinuxNet
import NIOCore
import NetStack
import NetworkAddress
import Synchronization
import Tunnel

/// The workstation's side of the cluster network while connected: a TUN device with routes for
/// the cluster's subnets and the stack and bridge that carry its connections into the tunnel.
/// The root daemon starts one per session; `stop()` (or the process ending: the device goes with
/// its descriptor, and the routes with the device) removes everything it added.
public final class VirtualInterface: Sendable {
    public struct Configuration: Sendable {
        /// The interface name ("tel0", or "tel%d" to let the kernel number it).
        public var deviceName = "tel0"
        /// 65000: a TUN read moves ~600 MB/s at MTU 1500 and ~7.5 GB/s at 65000 here, and the
        /// link never leaves the machine, so there is no path MTU to respect.
        public var mtu = 65000
        /// The device's own address (a /32, from the benchmarking range 198.18.0.0/15 that no
        /// real network routes): the DNS server listens on it.
        public var deviceAddress = IPv4Address(198, 18, 0, 1)
        public var clusterSubnets: [IPSubnet] = []
        public var alsoProxy: [IPSubnet] = []
        public var neverProxy: [IPSubnet] = []
        public var allowConflicting: [IPSubnet] = []
        /// Addresses that must not be routed into the tunnel (the API server's).
        public var keepLocal: [IPAddress] = []
        public var stack = NetStackConfiguration()
        public var bridge = TunnelBridge.Configuration()

        public init() {}
    }

    public let device: TUNDevice
    public let bridge: TunnelBridge
    private let state: Mutex<State>

    struct State {
        var configuration: Configuration
        var routes: [IPSubnet]
        var unsupported: [IPSubnet]
        var stopped = false
    }

    /// The subnets currently routed to the device.
    public var routes: [IPSubnet] { state.withLock { $0.routes } }

    /// Subnets the cluster or the flags asked for that the device cannot route (IPv6, for now).
    public var unroutedSubnets: [IPSubnet] { state.withLock { $0.unsupported } }

    /// Plans the routes against the kernel's table (refusing conflicts), creates the device in
    /// the calling thread's network namespace, adds the routes and starts the stack.
    public init(configuration: Configuration, eventLoop: any EventLoop) throws {
        let plan = try RoutePlan.make(Self.request(configuration), routes: KernelRoute.current())
        let device = try TUNDevice(name: configuration.deviceName)
        do {
            try device.setMTU(configuration.mtu)
            try device.setAddress(configuration.deviceAddress, prefixLength: 32)
            try device.bringUp()
            for subnet in plan.routes { try Self.addRoute(subnet, to: device) }
            var stack = configuration.stack
            stack.mtu = configuration.mtu
            bridge = try TunnelBridge(device: device, stack: stack, eventLoop: eventLoop, configuration: configuration.bridge)
        } catch {
            device.close()
            throw error
        }
        self.device = device
        state = Mutex(State(configuration: configuration, routes: plan.routes, unsupported: plan.unsupported))
    }

    static func request(_ configuration: Configuration) -> RoutePlan.Request {
        RoutePlan.Request(
            clusterSubnets: configuration.clusterSubnets, alsoProxy: configuration.alsoProxy,
            neverProxy: configuration.neverProxy, allowConflicting: configuration.allowConflicting,
            keepLocal: configuration.keepLocal, device: "")
    }

    /// New cluster subnets (the traffic-manager learned more pod subnets, say): routes are added
    /// and removed so that the device carries exactly the new plan.
    public func update(clusterSubnets: [IPSubnet]) throws {
        try state.withLock { state in
            var configuration = state.configuration
            configuration.clusterSubnets = clusterSubnets
            var request = Self.request(configuration)
            request.device = device.name
            let plan = try RoutePlan.make(request, routes: KernelRoute.current())
            let old = Set(state.routes)
            let new = Set(plan.routes)
            for subnet in new.subtracting(old).sorted() { try Self.addRoute(subnet, to: device) }
            for subnet in old.subtracting(new).sorted() {
                if let network = subnet.address.v4 { try? device.removeRoute(network, prefixLength: subnet.prefixLength) }
            }
            state.configuration = configuration
            state.routes = plan.routes
            state.unsupported = plan.unsupported
        }
    }

    /// The plan holds IPv4 subnets only (it sets IPv6 ones aside as unsupported).
    private static func addRoute(_ subnet: IPSubnet, to device: TUNDevice) throws {
        guard let network = subnet.address.v4 else { return }
        try device.addRoute(network, prefixLength: subnet.prefixLength)
    }

    /// Stops the stack and removes the device (and with it its address and routes).
    public func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        bridge.shutdown()
        device.close()
    }
}
#endif
