import NetworkAddress

/// The workstation's network as the root daemon reports it.
public struct NetworkStatus: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// The device, routes and DNS are in place and a tunnel connection is up.
        case connected
        /// In place, but every tunnel connection is down and being redialed.
        case reconnecting
        /// Not joined (or the root daemon does not run; `note` says why).
        case disconnected
    }

    public var state: State
    public var device: String?
    public var routes: [IPSubnet]
    /// Subnets asked for that the device cannot route (IPv6, for now).
    public var unroutedSubnets: [IPSubnet]
    public var dnsAddress: IPAddress?
    /// How the system resolver reaches our DNS server: "systemd-resolved" or "resolv.conf".
    public var dnsMode: String?
    public var tunnelConnectionsUp: Int
    public var tunnelReconnects: Int
    public var activeFlows: Int
    /// Why the network is not joined, or what is wrong with it, as one sentence.
    public var note: String?

    public init(
        state: State, device: String? = nil, routes: [IPSubnet] = [], unroutedSubnets: [IPSubnet] = [],
        dnsAddress: IPAddress? = nil, dnsMode: String? = nil, tunnelConnectionsUp: Int = 0, tunnelReconnects: Int = 0,
        activeFlows: Int = 0, note: String? = nil
    ) {
        self.state = state
        self.device = device
        self.routes = routes
        self.unroutedSubnets = unroutedSubnets
        self.dnsAddress = dnsAddress
        self.dnsMode = dnsMode
        self.tunnelConnectionsUp = tunnelConnectionsUp
        self.tunnelReconnects = tunnelReconnects
        self.activeFlows = activeFlows
        self.note = note
    }

    public static let disconnected = NetworkStatus(state: .disconnected)

    /// Not joined, with the reason.
    public static func disconnected(_ note: String) -> NetworkStatus { NetworkStatus(state: .disconnected, note: note) }
}
