import Foundation
import Logging
import NIOCore
import NIOPosix
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
    let info: Telepresence_Daemon_OutboundInfo
    let interface: VirtualInterface
    let tunnel: TunnelLink
    let dns: WorkstationDNS

    private init(info: Telepresence_Daemon_OutboundInfo, interface: VirtualInterface, tunnel: TunnelLink, dns: WorkstationDNS) {
        self.info = info
        self.interface = interface
        self.tunnel = tunnel
        self.dns = dns
    }

    static func start(_ info: Telepresence_Daemon_OutboundInfo, paths: RootDaemonPaths, group: any EventLoopGroup, logger: Logger) async throws -> NetworkSession {
        func subnets(_ texts: [String], _ what: String) throws -> [IPv4Subnet] {
            try texts.map { text in
                guard let subnet = IPv4Subnet(text) else { throw RootDaemonError.badSubnet(text, what) }
                return subnet
            }
        }
        var configuration = VirtualInterface.Configuration()
        configuration.clusterSubnets = try subnets(info.clusterSubnets, "cluster subnet")
        configuration.alsoProxy = try subnets(info.alsoProxy, "--also-proxy")
        configuration.neverProxy = try subnets(info.neverProxy, "--never-proxy")
        configuration.allowConflicting = try subnets(info.allowConflicting, "--allow-conflicting-subnets")
        configuration.keepLocal = info.keepLocal.compactMap { IPv4Subnet($0)?.network }
        let eventLoop = group.next()
        let interface = try VirtualInterface(configuration: configuration, eventLoop: eventLoop)
        let bridge = interface.bridge
        let tunnel = TunnelLink(socketPath: info.tunnelSocket, eventLoop: eventLoop, logger: logger) { multiplexer in
            bridge.setMultiplexer(multiplexer)
        }
        if await !tunnel.start() {
            logger.warning("the tunnel did not come up at once; retrying in the background")
        }
        guard let dnsIP = TunnelIPAddress(info.clusterDnsIp) else {
            tunnel.stop()
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
            tunnel.stop()
            interface.stop()
            throw error
        }
        logger.info("connected the workstation's network: \(interface.device.name), routes \(interface.routes.map(\.description).joined(separator: " ")), DNS on \(dnsConfiguration.listenAddress) (system resolver: \(dns.mode))")
        return NetworkSession(info: info, interface: interface, tunnel: tunnel, dns: dns)
    }

    func status() async -> Telepresence_Daemon_NetworkStatus {
        var status = Telepresence_Daemon_NetworkStatus()
        status.state = tunnel.isUp ? "connected" : "reconnecting"
        status.device = interface.device.name
        status.routes = interface.routes.map(\.description)
        status.dnsAddress = dns.server.udpAddress.ipAddress ?? ""
        status.tunnelConnectionsUp = tunnel.isUp ? 1 : 0
        status.tunnelReconnects = Int32(tunnel.reconnects)
        let bridge = interface.bridge
        if let stats = try? await bridge.eventLoop.submit({ bridge.statistics }).get() {
            status.activeFlows = Int32(stats.active)
        }
        return status
    }

    func stop() async {
        await dns.stop()
        tunnel.stop()
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
        case .badSubnet(let text, let what): "\(text) is not an IPv4 subnet (\(what)); write it as A.B.C.D/N"
        case .badAddress(let text, let what): "\(text) is not an IP address (\(what))"
        case .notRoot: "the root daemon must run as root (telepresence starts it with sudo)"
        case .cannotListen(let socket): "the root daemon cannot listen on \(socket); remove the file if no telepresence daemon runs"
        }
    }
}
