import NetworkAddress
import RPC

// The root daemon's messages (daemon.proto), read and written by both daemons.

extension NetworkRequest {
    public init(wire: Telepresence_Daemon_OutboundInfo) throws(WireError) {
        func subnets(_ texts: [String], _ field: String) throws(WireError) -> [IPSubnet] {
            var result: [IPSubnet] = []
            for text in texts {
                guard let subnet = IPSubnet(addressOrCIDR: text) else {
                    throw WireError(field: field, value: text, expected: "a subnet such as 10.96.0.0/16")
                }
                result.append(subnet)
            }
            return result
        }
        var keepLocal: [IPAddress] = []
        for text in wire.keepLocal {
            guard let address = IPAddress(text) else { throw WireError(field: "keep_local", value: text, expected: "an IP address") }
            keepLocal.append(address)
        }
        var dns: IPAddress?
        if !wire.clusterDnsIp.isEmpty {
            guard let address = IPAddress(wire.clusterDnsIp) else {
                throw WireError(field: "cluster_dns_ip", value: wire.clusterDnsIp, expected: "an IP address")
            }
            dns = address
        }
        self.init(
            sessionID: wire.sessionID,
            clusterSubnets: try subnets(wire.clusterSubnets, "cluster_subnets"),
            alsoProxy: try subnets(wire.alsoProxy, "also_proxy (--also-proxy)"),
            neverProxy: try subnets(wire.neverProxy, "never_proxy (--never-proxy)"),
            allowConflicting: try subnets(wire.allowConflicting, "allow_conflicting (--allow-conflicting-subnets)"),
            keepLocal: keepLocal, clusterDNS: dns, clusterDomain: wire.clusterDomain,
            connectedNamespace: wire.connectedNamespace, mappedNamespaces: wire.mappedNamespaces,
            tunnelSocket: wire.tunnelSocket, tunnelConnections: Int(wire.tunnelConnections))
    }

    public var wire: Telepresence_Daemon_OutboundInfo {
        .with {
            $0.sessionID = sessionID
            $0.clusterSubnets = clusterSubnets.map(\.description)
            $0.alsoProxy = alsoProxy.map(\.description)
            $0.neverProxy = neverProxy.map(\.description)
            $0.allowConflicting = allowConflicting.map(\.description)
            $0.keepLocal = keepLocal.map(\.description)
            $0.clusterDnsIp = clusterDNS?.description ?? ""
            $0.clusterDomain = clusterDomain
            $0.connectedNamespace = connectedNamespace
            $0.mappedNamespaces = mappedNamespaces
            $0.tunnelSocket = tunnelSocket
            $0.tunnelConnections = Int32(tunnelConnections)
        }
    }
}

extension NetworkStatus {
    /// Lenient: a status is for showing, so what does not parse is left out rather than failing
    /// the whole `status`.
    public init(wire: Telepresence_Daemon_NetworkStatus) {
        self.init(
            state: State(rawValue: wire.state) ?? .disconnected,
            device: wire.device.isEmpty ? nil : wire.device,
            routes: wire.routes.compactMap { IPSubnet($0) },
            unroutedSubnets: wire.unroutedSubnets.compactMap { IPSubnet($0) },
            dnsAddress: IPAddress(wire.dnsAddress),
            dnsMode: wire.dnsMode.isEmpty ? nil : wire.dnsMode,
            tunnelConnectionsUp: Int(wire.tunnelConnectionsUp),
            tunnelReconnects: Int(wire.tunnelReconnects),
            activeFlows: Int(wire.activeFlows),
            note: wire.errorText.isEmpty ? nil : wire.errorText)
    }

    public var wire: Telepresence_Daemon_NetworkStatus {
        .with {
            $0.state = state.rawValue
            $0.device = device ?? ""
            $0.routes = routes.map(\.description)
            $0.unroutedSubnets = unroutedSubnets.map(\.description)
            $0.dnsAddress = dnsAddress?.description ?? ""
            $0.dnsMode = dnsMode ?? ""
            $0.tunnelConnectionsUp = Int32(tunnelConnectionsUp)
            $0.tunnelReconnects = Int32(tunnelReconnects)
            $0.activeFlows = Int32(activeFlows)
            $0.errorText = note ?? ""
        }
    }
}

extension DaemonVersion {
    public init(wire: Telepresence_Daemon_VersionInfo) {
        self.init(name: wire.name, version: wire.version, pid: wire.pid)
    }

    public var wire: Telepresence_Daemon_VersionInfo {
        .with {
            $0.name = name
            $0.version = version
            $0.pid = pid
        }
    }
}
