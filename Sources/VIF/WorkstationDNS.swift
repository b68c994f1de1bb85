import DNS
import DNSServer
import Foundation
import NIOCore
import NIOPosix
import NetworkAddress
import Tunnel

/// The workstation's DNS while connected: a server on the TUN device's address that answers
/// cluster names by asking the cluster's DNS through the tunnel and forwards everything else to
/// the resolvers the workstation had, and the system resolver pointed at it, one of two ways
/// (`SystemResolverMode`): when systemd-resolved is in charge, split DNS on the TUN device's link
/// (only the cluster's names come to us; reverted by `stop()`, forgotten by resolved when the
/// device goes with a crashed process); otherwise resolv.conf replaced (restored byte for byte
/// by `stop()`, or by the next start after a crash).
public final class WorkstationDNS: Sendable {
    public struct Configuration: Sendable {
        /// Where the server listens (the TUN device's address).
        public var listenAddress: String
        public var port = 53
        /// The cluster's DNS service (kube-dns), reached through the tunnel.
        public var clusterDNSServer: TunnelEndpoint
        public var clusterDomain = "cluster.local"
        /// Bare names resolve here.
        public var connectedNamespace: String
        /// Namespaces whose services answer to `svc.ns`.
        public var namespaces: [String] = []
        /// The subnets whose reverse (PTR) names are the cluster's.
        public var serviceSubnets: [IPSubnet] = []
        public var podSubnets: [IPSubnet] = []
        public var resolvConfPath = "/etc/resolv.conf"
        /// The original's copy while connected (and after a crash, until the next start).
        public var resolvConfBackupPath: String
        /// The TUN device whose link systemd-resolved is told about; without it, resolv.conf is
        /// replaced even when resolved runs.
        public var deviceName: String?
        /// nil: detected at start (`SystemResolverMode.probe`).
        public var systemResolver: SystemResolverMode?
        /// The D-Bus system bus to reach systemd-resolved on; nil is the machine's. Tests point
        /// it at a private bus.
        public var systemBusAddress: String?
        /// Where systemd-resolved lists the servers it uses itself: our upstreams in split-DNS
        /// mode (resolv.conf then names only resolved's stub, which would send names back to us).
        public var resolvedUplinkResolvConfPath = "/run/systemd/resolve/resolv.conf"

        public init(listenAddress: String, clusterDNSServer: TunnelEndpoint, connectedNamespace: String, resolvConfBackupPath: String) {
            self.listenAddress = listenAddress
            self.clusterDNSServer = clusterDNSServer
            self.connectedNamespace = connectedNamespace
            self.resolvConfBackupPath = resolvConfBackupPath
        }
    }

    public let server: DNSServer
    public let override: ResolvConfOverride
    /// How the system resolver reaches `server`.
    public let mode: SystemResolverMode
    /// The link's configuration in split-DNS mode.
    public let resolved: ResolvedSplitDNS?
    /// The system resolver's configuration before we changed it (the uplink servers in split-DNS
    /// mode).
    public let original: ResolvConf
    private let linkIndex: Int32
    private let serving: Task<Void, any Error>

    private init(server: DNSServer, override: ResolvConfOverride, mode: SystemResolverMode, resolved: ResolvedSplitDNS?,
                 original: ResolvConf, linkIndex: Int32, serving: Task<Void, any Error>) {
        self.server = server
        self.override = override
        self.mode = mode
        self.resolved = resolved
        self.original = original
        self.linkIndex = linkIndex
        self.serving = serving
    }

    /// Binds the server (in the calling thread's network namespace), then points the system
    /// resolver at it. `multiplexer` gives the tunnel currently up (called on `eventLoop`).
    public static func start(
        _ configuration: Configuration, eventLoop: any EventLoop, group: any EventLoopGroup,
        multiplexer: @escaping @Sendable () -> TunnelMultiplexer?
    ) async throws -> WorkstationDNS {
        let override = ResolvConfOverride(path: configuration.resolvConfPath, backupPath: configuration.resolvConfBackupPath)
        // A backup left by a crash is the true resolv.conf: put it back before looking at the
        // machine, so the choice below sees what the user has.
        try override.restore()
        var mode = configuration.systemResolver ?? .resolvConfOverride
        if configuration.systemResolver == nil, configuration.deviceName != nil {
            mode = await SystemResolverMode.probe(resolvConfPath: configuration.resolvConfPath, systemBusAddress: configuration.systemBusAddress)
        }
        var linkIndex: Int32 = 0
        if mode == .resolvedSplitDNS {
            guard let device = configuration.deviceName, case let index = if_nametoindex(device), index != 0 else {
                throw WorkstationDNSError.noDevice(configuration.deviceName ?? "(none)")
            }
            linkIndex = Int32(index)
        }
        let original = mode == .resolvedSplitDNS
            ? ResolvConf(parsing: (try? String(contentsOfFile: configuration.resolvedUplinkResolvConfPath, encoding: .utf8)) ?? "")
            : try override.original()
        let lookup = TunnelDNSLookup(server: configuration.clusterDNSServer, eventLoop: eventLoop, multiplexer: multiplexer)
        let responder = ClusterDNSResponder(config: try dnsConfig(configuration, original: original),
                                            cache: ClusterAnswerCache(lookup: lookup))
        let upstreams = original.nameservers.filter { !SystemResolverMode.stubAddresses.contains($0) }
            .compactMap { try? SocketAddress(ipAddress: $0, port: 53) }
            .filter { $0.ipAddress != configuration.listenAddress }
        let server = try await DNSServer.bind(host: configuration.listenAddress, port: configuration.port, responder: responder,
                                              upstreams: upstreams, group: group)
        let serving = Task { try await server.run() }
        var resolved: ResolvedSplitDNS?
        do {
            switch mode {
            case .resolvedSplitDNS:
                let link = ResolvedSplitDNS(systemBusAddress: configuration.systemBusAddress)
                try await link.apply(try plan(configuration, linkIndex: linkIndex))
                resolved = link
            case .resolvConfOverride:
                try override.apply(original.connected(dnsServer: configuration.listenAddress, searchDomain: "tel2-search"))
            }
        } catch {
            serving.cancel()
            _ = try? await serving.value
            throw error
        }
        return WorkstationDNS(server: server, override: override, mode: mode, resolved: resolved, original: original,
                              linkIndex: linkIndex, serving: serving)
    }

    /// What systemd-resolved is told for `configuration`.
    static func plan(_ configuration: Configuration, linkIndex: Int32) throws(WorkstationDNSError) -> SplitDNSPlan {
        guard let address = IPv4Address(configuration.listenAddress) else { throw .notIPv4(configuration.listenAddress) }
        return SplitDNSPlan(linkIndex: linkIndex, dnsServer: address.bytes,
                            clusterDomain: configuration.clusterDomain,
                            namespaces: [configuration.connectedNamespace] + configuration.namespaces)
    }

    static func dnsConfig(_ configuration: Configuration, original: ResolvConf) throws -> ClusterDNSConfig {
        ClusterDNSConfig(
            clusterDomain: try DNSName(configuration.clusterDomain),
            connectedNamespace: configuration.connectedNamespace,
            namespaces: Set(configuration.namespaces + [configuration.connectedNamespace]),
            workstationSearchDomains: original.search.filter { $0 != "tel2-search" }.compactMap { try? DNSName($0) },
            serviceSubnets: configuration.serviceSubnets,
            podSubnets: configuration.podSubnets)
    }

    /// New namespaces or subnets: the routing of names changes and cached answers are dropped;
    /// in split-DNS mode the link's routing domains follow the namespaces.
    public func update(_ configuration: Configuration) async throws {
        await server.responder.update(config: try Self.dnsConfig(configuration, original: original))
        if let resolved {
            try await resolved.apply(try Self.plan(configuration, linkIndex: linkIndex))
        }
    }

    /// Reverts the link (split DNS) or restores resolv.conf, and stops serving.
    public func stop() async {
        switch mode {
        case .resolvedSplitDNS: _ = try? await resolved?.revert()
        case .resolvConfOverride: _ = try? override.restore()
        }
        serving.cancel()
        _ = try? await serving.value
    }
}

public enum WorkstationDNSError: Error, Equatable, Sendable, CustomStringConvertible {
    case noDevice(String)
    case notIPv4(String)

    public var description: String {
        switch self {
        case .noDevice(let name):
            "the network device \(name) is missing, so systemd-resolved cannot be pointed at it; reconnect (telepresence quit, then connect)"
        case .notIPv4(let text):
            "\(text) is not an IPv4 address; the DNS server must listen on the TUN device's IPv4 address"
        }
    }
}
