import DNS
import DNSServer
import NIOCore
import NIOPosix
import Tunnel

/// The workstation's DNS while connected: a server on the TUN device's address that answers
/// cluster names by asking the cluster's DNS through the tunnel and forwards everything else to
/// the resolvers the workstation had, and the system resolver pointed at it (resolv.conf
/// replaced; restored byte for byte by `stop()`, or by the next start after a crash).
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
        public var serviceSubnets: [String] = []
        public var podSubnets: [String] = []
        public var resolvConfPath = "/etc/resolv.conf"
        /// The original's copy while connected (and after a crash, until the next start).
        public var resolvConfBackupPath: String

        public init(listenAddress: String, clusterDNSServer: TunnelEndpoint, connectedNamespace: String, resolvConfBackupPath: String) {
            self.listenAddress = listenAddress
            self.clusterDNSServer = clusterDNSServer
            self.connectedNamespace = connectedNamespace
            self.resolvConfBackupPath = resolvConfBackupPath
        }
    }

    public let server: DNSServer
    public let override: ResolvConfOverride
    private let serving: Task<Void, any Error>

    private init(server: DNSServer, override: ResolvConfOverride, serving: Task<Void, any Error>) {
        self.server = server
        self.override = override
        self.serving = serving
    }

    /// Binds the server (in the calling thread's network namespace), then points the system
    /// resolver at it. `multiplexer` gives the tunnel currently up (called on `eventLoop`).
    public static func start(
        _ configuration: Configuration, eventLoop: any EventLoop, group: any EventLoopGroup,
        multiplexer: @escaping @Sendable () -> TunnelMultiplexer?
    ) async throws -> WorkstationDNS {
        let override = ResolvConfOverride(path: configuration.resolvConfPath, backupPath: configuration.resolvConfBackupPath)
        let original = try override.original()
        let lookup = TunnelDNSLookup(server: configuration.clusterDNSServer, eventLoop: eventLoop, multiplexer: multiplexer)
        let responder = ClusterDNSResponder(config: try dnsConfig(configuration, original: original),
                                            cache: ClusterAnswerCache(lookup: lookup))
        let upstreams = original.nameservers.compactMap { try? SocketAddress(ipAddress: $0, port: 53) }
            .filter { $0.ipAddress != configuration.listenAddress }
        let server = try await DNSServer.bind(host: configuration.listenAddress, port: configuration.port, responder: responder,
                                              upstreams: upstreams, group: group)
        let serving = Task { try await server.run() }
        do {
            try override.apply(original.connected(dnsServer: configuration.listenAddress, searchDomain: "tel2-search"))
        } catch {
            serving.cancel()
            _ = try? await serving.value
            throw error
        }
        return WorkstationDNS(server: server, override: override, serving: serving)
    }

    static func dnsConfig(_ configuration: Configuration, original: ResolvConf) throws -> ClusterDNSConfig {
        ClusterDNSConfig(
            clusterDomain: try DNSName(configuration.clusterDomain),
            connectedNamespace: configuration.connectedNamespace,
            namespaces: Set(configuration.namespaces + [configuration.connectedNamespace]),
            workstationSearchDomains: original.search.filter { $0 != "tel2-search" }.compactMap { try? DNSName($0) },
            serviceSubnets: configuration.serviceSubnets.compactMap(IPSubnet.init),
            podSubnets: configuration.podSubnets.compactMap(IPSubnet.init))
    }

    /// New namespaces or subnets: the routing of names changes and cached answers are dropped.
    public func update(_ configuration: Configuration) async throws {
        let original = try override.original()
        await server.responder.update(config: try Self.dnsConfig(configuration, original: original))
    }

    /// Restores resolv.conf and stops serving.
    public func stop() async {
        _ = try? override.restore()
        serving.cancel()
        _ = try? await serving.value
    }
}
