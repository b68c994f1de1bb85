import Foundation
import Logging
import NIOCore
import NIOPosix
import NetworkAddress
import RPC
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
    private let current: Mutex<(info: Telepresence_Daemon_OutboundInfo, dns: WorkstationDNS.Configuration)>
    let interface: VirtualInterface
    /// The tunnel's connections (`OutboundInfo.tunnelConnections`, at least one).
    let tunnels: [TunnelLink]
    let dns: WorkstationDNS

    /// What the session was asked for (the last update included).
    var info: Telepresence_Daemon_OutboundInfo { current.withLock { $0.info } }

    private init(info: Telepresence_Daemon_OutboundInfo, dnsConfiguration: WorkstationDNS.Configuration,
                 interface: VirtualInterface, tunnels: [TunnelLink], dns: WorkstationDNS) {
        self.current = Mutex((info, dnsConfiguration))
        self.interface = interface
        self.tunnels = tunnels
        self.dns = dns
    }

    /// Whether `new` differs from what runs only in what can change without dropping a
    /// connection: the cluster's subnets and the mapped namespaces.
    func canUpdate(to new: Telepresence_Daemon_OutboundInfo) -> Bool {
        var comparable = new
        let running = info
        comparable.clusterSubnets = running.clusterSubnets
        comparable.mappedNamespaces = running.mappedNamespaces
        return comparable == running
    }

    /// Routes and DNS follow the cluster's new subnets and namespaces; connections stay up.
    func update(to new: Telepresence_Daemon_OutboundInfo, logger: Logger) async throws {
        let subnets = try Self.subnets(new.clusterSubnets, "cluster subnet")
        try interface.update(clusterSubnets: subnets)
        let dnsConfiguration = current.withLock { current in
            current.info = new
            current.dns.serviceSubnets = new.clusterSubnets
            current.dns.namespaces = new.mappedNamespaces
            return current.dns
        }
        try await dns.update(dnsConfiguration)
        logger.info("updated the workstation's network: routes \(interface.routes.map(\.description).joined(separator: " "))")
    }

    static func subnets(_ texts: [String], _ what: String) throws -> [IPSubnet] {
        try texts.map { text in
            guard let subnet = IPSubnet(addressOrCIDR: text) else { throw RootDaemonError.badSubnet(text, what) }
            return subnet
        }
    }

    static func start(_ info: Telepresence_Daemon_OutboundInfo, paths: RootDaemonPaths, group: any EventLoopGroup, logger: Logger) async throws -> NetworkSession {
        var configuration = VirtualInterface.Configuration()
        configuration.clusterSubnets = try subnets(info.clusterSubnets, "cluster subnet")
        configuration.alsoProxy = try subnets(info.alsoProxy, "--also-proxy")
        configuration.neverProxy = try subnets(info.neverProxy, "--never-proxy")
        configuration.allowConflicting = try subnets(info.allowConflicting, "--allow-conflicting-subnets")
        configuration.keepLocal = info.keepLocal.compactMap { IPAddress($0) }
        let eventLoop = group.next()
        let interface = try VirtualInterface(configuration: configuration, eventLoop: eventLoop)
        let bridge = interface.bridge
        let tunnels = (0..<max(1, min(Int(info.tunnelConnections), 16))).map { slot in
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
        guard let dnsIP = IPAddress(info.clusterDnsIp) else {
            tunnels.forEach { $0.stop() }
            interface.stop()
            throw RootDaemonError.badAddress(info.clusterDnsIp, "cluster DNS")
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
        return NetworkSession(info: info, dnsConfiguration: dnsConfiguration, interface: interface, tunnels: tunnels, dns: dns)
    }

    func status() async -> Telepresence_Daemon_NetworkStatus {
        var status = Telepresence_Daemon_NetworkStatus()
        let up = tunnels.filter(\.isUp).count
        // Connected while any connection carries the tunnel (new flows go to those up).
        status.state = up > 0 ? "connected" : "reconnecting"
        status.device = interface.device.name
        status.routes = interface.routes.map(\.description)
        status.dnsAddress = dns.server.udpAddress.ipAddress ?? ""
        status.dnsMode = dns.mode.rawValue
        status.tunnelConnectionsUp = Int32(up)
        status.tunnelReconnects = Int32(tunnels.reduce(0) { $0 + $1.reconnects })
        let bridge = interface.bridge
        if let stats = try? await bridge.eventLoop.submit({ bridge.statistics }).get() {
            status.activeFlows = Int32(stats.active)
        }
        return status
    }

    func stop() async {
        await dns.stop()
        tunnels.forEach { $0.stop() }
        interface.stop()
    }
}

/// Where the root daemon keeps its socket and its state: the user's runtime folder (0700, so
/// only that user and root can reach the socket), not a system-wide path, because the daemon
/// is started per user with sudo.
public struct RootDaemonPaths: Sendable {
    public var directory: URL

    public init(directory: URL) { self.directory = directory }

    public init(_ paths: ClientPaths) { directory = paths.runtimeDirectory }

    public var socket: URL { directory.appendingPathComponent("daemon.socket") }
    public var resolvConfBackup: URL { directory.appendingPathComponent("resolv.conf.orig") }
    public var log: URL { directory.appendingPathComponent("daemon.log") }
}

public enum RootDaemonError: Error, CustomStringConvertible {
    case badSubnet(String, String)
    case badAddress(String, String)
    case notRoot
    case cannotListen(String)

    public var description: String {
        switch self {
        case .badSubnet(let text, let what): "\(text) is not a subnet (\(what)); write it as A.B.C.D/N"
        case .badAddress(let text, let what): "\(text) is not an IP address (\(what))"
        case .notRoot: "the root daemon must run as root (telepresence starts it with sudo)"
        case .cannotListen(let socket): "the root daemon cannot listen on \(socket); remove the file if no telepresence daemon runs"
        }
    }
}
