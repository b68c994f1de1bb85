import Diagnostics
import Foundation
import NetworkAddress

/// The traffic-manager's settings, from the environment its Deployment sets (the names follow
/// Telepresence's chart where they exist) with defaults for everything.
public struct ManagerSettings: Sendable, Equatable {
    /// The namespace the manager runs in (`MANAGER_NAMESPACE`, from the downward API).
    public var namespace: String
    /// The gRPC API's port (`SERVER_PORT`, the chart's `apiPort`).
    public var serverPort: Int
    /// The address the API listens on; `0.0.0.0` in a pod, `127.0.0.1` in tests.
    public var serverHost: String
    /// error, warning, info, debug or trace (`LOG_LEVEL`).
    public var logLevel: String
    /// How long a client session lives without a keepalive (`CLIENT_SESSION_TTL`, seconds or
    /// a duration such as `30s`).
    public var clientSessionTTL: Duration
    /// How often expired sessions are looked for.
    public var expiryInterval: Duration
    /// `auto` (node podCIDRs, else coverage), `nodePodCIDRs`, `coverPodIPs` or `environment`
    /// (`POD_CIDR_STRATEGY`, the chart's `podCIDRStrategy`).
    public var podCIDRStrategy: String
    /// Pod subnets for the `environment` strategy (`POD_CIDRS`, space separated).
    public var podCIDRs: [String]
    /// The namespaces a namespaced install manages (`MANAGED_NAMESPACES`, space separated); empty
    /// means all.
    public var managedNamespaces: [String]
    /// The cluster domain when the manager cannot find it in /etc/resolv.conf (`CLUSTER_DOMAIN`).
    public var clusterDomain: String?
    /// The manager pod's IP (`POD_IP`, from the downward API).
    public var podIP: String?
    /// Where the pod's resolver configuration is (tests point elsewhere).
    public var resolvConfPath: String
    /// The data plane's port (`TUNNEL_PORT`): each connection is a tunnel whose streams the
    /// manager dials inside the cluster. Default: the API port + 1 (8082), or any free port
    /// when the API port is 0.
    public var tunnelPort: Int?
    /// The agent injector's webhook (Injector/AgentInjectorSettings.swift).
    public var agentInjector = AgentInjectorSettings()

    /// How long CreateIntercept waits for every current pod of a workload to have an agent that
    /// confirmed the intercept (`AGENT_ARRIVAL_TIMEOUT`, the chart's `timeouts.agentArrival`).
    public var agentArrivalTimeout: Duration
    /// The traffic-agent's image (`AGENT_IMAGE`): the manager's own by default.
    public var agentImage: String

    /// The tunnel port to listen on.
    public var effectiveTunnelPort: Int { tunnelPort ?? (serverPort == 0 ? 0 : serverPort + 1) }

    public init(
        namespace: String = "ambassador", serverPort: Int = 8081, serverHost: String = "0.0.0.0",
        logLevel: String = "info", clientSessionTTL: Duration = .seconds(30), expiryInterval: Duration = .seconds(5),
        podCIDRStrategy: String = "auto", podCIDRs: [String] = [], managedNamespaces: [String] = [],
        clusterDomain: String? = nil, podIP: String? = nil, resolvConfPath: String = "/etc/resolv.conf",
        agentArrivalTimeout: Duration = .seconds(30),
        agentImage: String = "ghcr.io/telepresence-swift/traffic:\(ProductVersion.current)"
    ) {
        self.agentArrivalTimeout = agentArrivalTimeout
        self.agentImage = agentImage
        self.namespace = namespace
        self.serverPort = serverPort
        self.serverHost = serverHost
        self.logLevel = logLevel
        self.clientSessionTTL = clientSessionTTL
        self.expiryInterval = expiryInterval
        self.podCIDRStrategy = podCIDRStrategy
        self.podCIDRs = podCIDRs
        self.managedNamespaces = managedNamespaces
        self.clusterDomain = clusterDomain
        self.podIP = podIP
        self.resolvConfPath = resolvConfPath
        self.tunnelPort = nil
    }

    /// Settings from environment variables; unset ones keep their defaults.
    public static func fromEnvironment(_ environment: [String: String]) throws(SettingsError) -> ManagerSettings {
        var settings = ManagerSettings()
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        func list(_ name: String) -> [String] {
            (value(name) ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        }
        if let ns = value("MANAGER_NAMESPACE") { settings.namespace = ns }
        if let port = value("SERVER_PORT") {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw .invalid(name: "SERVER_PORT", value: port, expected: "a TCP port number")
            }
            settings.serverPort = number
        }
        if let port = value("TUNNEL_PORT") {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw .invalid(name: "TUNNEL_PORT", value: port, expected: "a TCP port number")
            }
            settings.tunnelPort = number
        }
        if let host = value("SERVER_HOST") { settings.serverHost = host }
        if let level = value("LOG_LEVEL") { settings.logLevel = level }
        if let ttl = value("CLIENT_SESSION_TTL") {
            guard let duration = parseDuration(ttl), duration > .zero else {
                throw .invalid(name: "CLIENT_SESSION_TTL", value: ttl, expected: "a duration such as 30s or 2m")
            }
            settings.clientSessionTTL = duration
        }
        if let strategy = value("POD_CIDR_STRATEGY") {
            let known = ["auto", "nodePodCIDRs", "coverPodIPs", "environment"]
            guard known.contains(strategy) else {
                throw .invalid(name: "POD_CIDR_STRATEGY", value: strategy, expected: "one of \(known.joined(separator: ", "))")
            }
            settings.podCIDRStrategy = strategy
        }
        settings.podCIDRs = list("POD_CIDRS")
        for cidr in settings.podCIDRs where IPSubnet(cidr) == nil {
            throw .invalid(name: "POD_CIDRS", value: cidr, expected: "subnets such as 10.244.0.0/16")
        }
        settings.managedNamespaces = list("MANAGED_NAMESPACES")
        if let timeout = value("AGENT_ARRIVAL_TIMEOUT") {
            guard let duration = parseDuration(timeout), duration > .zero else {
                throw .invalid(name: "AGENT_ARRIVAL_TIMEOUT", value: timeout, expected: "a duration such as 30s or 2m")
            }
            settings.agentArrivalTimeout = duration
        }
        if let image = value("AGENT_IMAGE") { settings.agentImage = image }
        settings.clusterDomain = value("CLUSTER_DOMAIN")
        settings.podIP = value("POD_IP")
        settings.agentInjector = try AgentInjectorSettings.fromEnvironment(environment)
        return settings
    }

    /// `30`, `30s`, `5m`, `1h`, `250ms`.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)) else { return nil }
            return .milliseconds(Int64(number * factor * 1000))
        }
        return Double(text).map { .milliseconds(Int64($0 * 1000)) }
    }
}

/// A setting the manager cannot use.
public enum SettingsError: Error, Equatable, CustomStringConvertible {
    case invalid(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .invalid(let name, let value, let expected):
            "the environment variable \(name)=\(value) is not \(expected); fix the value (helm install --set) and restart the traffic-manager"
        }
    }
}
