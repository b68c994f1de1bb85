import ClientSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import NetworkAddress
import Synchronization
import Tunnel
import VIF

/// One connection of the workstation's network to the cluster, owned by the root daemon: the
/// virtual interface (device, routes, stack, bridge), the tunnel to the traffic-manager through
/// the user daemon, and the DNS server with the system resolver pointed at it (systemd-resolved's
/// split DNS on the device's link when resolved is in charge, resolv.conf replaced otherwise).
/// `stop()` removes all of it; so does the process ending (device and routes go with it, and
/// resolved forgets the link's DNS with the device; resolv.conf is restored from its backup by
/// the next start).
final class NetworkSession: Sendable {
    private let current: Mutex<(request: NetworkRequest, dns: WorkstationDNS.Configuration)>
    let interface: VirtualInterface
    /// The tunnel's connections (`OutboundInfo.tunnelConnections`, at least one).
    let tunnels: [TunnelLink]
    let dns: WorkstationDNS

    /// What the session was asked for (the last update included).
    var request: NetworkRequest { current.withLock { $0.request } }

    private init(request: NetworkRequest, dnsConfiguration: WorkstationDNS.Configuration,
                 interface: VirtualInterface, tunnels: [TunnelLink], dns: WorkstationDNS) {
        self.current = Mutex((request, dnsConfiguration))
        self.interface = interface
        self.tunnels = tunnels
        self.dns = dns
    }

    /// Whether `new` differs from what runs only in what can change without dropping a
    /// connection: the cluster's subnets and the mapped namespaces.
    func canUpdate(to new: NetworkRequest) -> Bool {
        var comparable = new
        let running = request
        comparable.clusterSubnets = running.clusterSubnets
        comparable.mappedNamespaces = running.mappedNamespaces
        return comparable == running
    }

    /// Routes and DNS follow the cluster's new subnets and namespaces; connections stay up.
    func update(to new: NetworkRequest, logger: Logger) async throws {
        try interface.update(clusterSubnets: new.clusterSubnets)
        let dnsConfiguration = current.withLock { current in
            current.request = new
            current.dns.serviceSubnets = new.clusterSubnets
            current.dns.namespaces = new.mappedNamespaces
            return current.dns
        }
        try await dns.update(dnsConfiguration)
        logger.info("updated the workstation's network: routes \(interface.routes.map(\.description).joined(separator: " "))")
    }

    static func start(_ info: NetworkRequest, paths: RootDaemonPaths, group: any EventLoopGroup, logger: Logger) async throws -> NetworkSession {
        guard let dnsIP = info.clusterDNS else { throw RootDaemonError.noClusterDNS }
        var configuration = VirtualInterface.Configuration()
        configuration.clusterSubnets = info.clusterSubnets
        configuration.alsoProxy = info.alsoProxy
        configuration.neverProxy = info.neverProxy
        configuration.allowConflicting = info.allowConflicting
        configuration.keepLocal = info.keepLocal
        let eventLoop = group.next()
        let interface = try VirtualInterface(configuration: configuration, eventLoop: eventLoop)
        let bridge = interface.bridge
        let tunnels = (0..<max(1, min(info.tunnelConnections, 16))).map { slot in
            TunnelLink(socketPath: info.tunnelSocket, eventLoop: eventLoop, logger: logger) { multiplexer in
                bridge.setMultiplexer(multiplexer, slot: slot)
            }
        }
        // Dialed together: the first connection costs the same time as all of them.
        let up = await withTaskGroup(of: Bool.self) { group in
            for tunnel in tunnels { group.addTask { await tunnel.start() } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        if up < tunnels.count {
            logger.warning("\(up) of \(tunnels.count) tunnel connections came up at once; retrying the others in the background")
        }
        var dnsConfiguration = WorkstationDNS.Configuration(
            listenAddress: configuration.deviceAddress.description,
            clusterDNSServer: TunnelEndpoint(address: dnsIP, port: 53),
            connectedNamespace: info.connectedNamespace.isEmpty ? "default" : info.connectedNamespace,
            resolvConfBackupPath: paths.resolvConfBackup.path)
        dnsConfiguration.clusterDomain = info.clusterDomain.isEmpty ? "cluster.local" : info.clusterDomain
        dnsConfiguration.namespaces = info.mappedNamespaces
        dnsConfiguration.serviceSubnets = info.clusterSubnets
        dnsConfiguration.deviceName = interface.device.name
        let dns: WorkstationDNS
        do {
            dns = try await WorkstationDNS.start(dnsConfiguration, eventLoop: eventLoop, group: group) { bridge.multiplexer }
        } catch {
            tunnels.forEach { $0.stop() }
            interface.stop()
            throw error
        }
        logger.info("connected the workstation's network: \(interface.device.name), routes \(interface.routes.map(\.description).joined(separator: " ")), DNS on \(dnsConfiguration.listenAddress) (system resolver: \(dns.mode))")
        return NetworkSession(request: info, dnsConfiguration: dnsConfiguration, interface: interface, tunnels: tunnels, dns: dns)
    }

    func status() async -> NetworkStatus {
        let up = tunnels.filter(\.isUp).count
        let unrouted = interface.unroutedSubnets
        var status = NetworkStatus(
            // Connected while any connection carries the tunnel (new flows go to those up).
            state: up > 0 ? .connected : .reconnecting,
            device: interface.device.name, routes: interface.routes, unroutedSubnets: unrouted,
            dnsAddress: dns.server.udpAddress.ipAddress.flatMap { IPAddress($0) }, dnsMode: dns.mode.rawValue,
            tunnelConnectionsUp: up, tunnelReconnects: tunnels.reduce(0) { $0 + $1.reconnects })
        let bridge = interface.bridge
        if let stats = try? await bridge.eventLoop.submit({ bridge.statistics }).get() {
            status.activeFlows = stats.active
        }
        return status
    }

    func stop() async {
        await dns.stop()
        tunnels.forEach { $0.stop() }
        interface.stop()
    }
}

public enum RootDaemonError: Error, CustomStringConvertible {
    case noClusterDNS
    case notRoot
    case cannotListen(String)

    public var description: String {
        switch self {
        case .noClusterDNS: "the cluster's DNS address is unknown (the traffic-manager found no kube-dns service); cluster names cannot be resolved"
        case .notRoot: "the root daemon must run as root (telepresence starts it with sudo)"
        case .cannotListen(let socket): "the root daemon cannot listen on \(socket); remove the file if no telepresence daemon runs"
        }
    }
}
