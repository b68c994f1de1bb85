import Foundation
import Yams

/// `~/.config/telepresence/config.yml`, with Telepresence's keys where it has them. Every key is
/// optional; missing ones take the defaults below.
public struct ClientConfig: Codable, Sendable, Equatable {
    public struct Timeouts: Codable, Sendable, Equatable {
        /// How long to wait for the API server (Telepresence: `clusterConnect`, 20s).
        public var clusterConnect: String?
        /// How long to wait for the traffic-manager (Telepresence: `trafficManagerConnect`, 60s).
        public var trafficManagerConnect: String?
        /// How long the CLI waits for the daemon to start.
        public var connectorStart: String?
        /// How long `helm install|upgrade` waits for the traffic-manager's rollout (Telepresence:
        /// `helm`, 30s).
        public var helm: String?
    }

    public struct LogLevels: Codable, Sendable, Equatable {
        public var userDaemon: String?
        public var rootDaemon: String?
        public var cli: String?
    }

    public struct Cluster: Codable, Sendable, Equatable {
        public var defaultManagerNamespace: String?
        public var mappedNamespaces: [String]?
    }

    public struct Images: Codable, Sendable, Equatable {
        public var registry: String?
        public var agentImage: String?
        public var managerImage: String?
    }

    /// Telepresence's `routing` section; `tunnelConnections` is ours.
    public struct Routing: Codable, Sendable, Equatable {
        /// How many connections (port-forwards) carry the tunnel; new flows go to the one with
        /// the fewest. Several give parallel flows a TCP window each on a far link.
        public var tunnelConnections: Int?
    }

    public var timeouts: Timeouts?
    public var logLevels: LogLevels?
    public var cluster: Cluster?
    public var images: Images?
    public var routing: Routing?

    public init(timeouts: Timeouts? = nil, logLevels: LogLevels? = nil, cluster: Cluster? = nil, images: Images? = nil,
                routing: Routing? = nil) {
        self.timeouts = timeouts
        self.logLevels = logLevels
        self.cluster = cluster
        self.images = images
        self.routing = routing
    }

    /// Reads the file; a missing file is the defaults, a broken one an error naming it.
    public static func load(from url: URL) throws -> ClientConfig {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return ClientConfig() }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return ClientConfig() }
        let config: ClientConfig
        do {
            config = try YAMLDecoder().decode(ClientConfig.self, from: text)
        } catch {
            throw ClientConfigError(path: url.path, reason: "\(error)")
        }
        if let connections = config.routing?.tunnelConnections, !(1...16).contains(connections) {
            throw ClientConfigError(path: url.path, reason: "routing.tunnelConnections is \(connections); use 1 to 16")
        }
        return config
    }

    public var clusterConnectTimeout: Duration { Self.duration(timeouts?.clusterConnect) ?? .seconds(20) }
    public var trafficManagerConnectTimeout: Duration { Self.duration(timeouts?.trafficManagerConnect) ?? .seconds(60) }
    public var connectorStartTimeout: Duration { Self.duration(timeouts?.connectorStart) ?? .seconds(10) }
    public var helmTimeout: Duration { Self.duration(timeouts?.helm) ?? .seconds(30) }
    public var defaultManagerNamespace: String { cluster?.defaultManagerNamespace ?? "ambassador" }
    public var userDaemonLogLevel: String { logLevels?.userDaemon ?? "info" }
    /// 1 to 16; default 4 (`./scripts/bench`: 4 flows at once at 20 ms RTT).
    public var tunnelConnections: Int { max(1, min(16, routing?.tunnelConnections ?? 4)) }  // `load` refuses others

    /// `20s`, `1m`, `500ms`, `1.5s`, or a bare number of seconds.
    public static func duration(_ text: String?) -> Duration? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        for (suffix, factor) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where text.hasSuffix(suffix) {
            if suffix == "s" && text.hasSuffix("ms") { continue }
            guard let number = Double(text.dropLast(suffix.count)) else { return nil }
            return .milliseconds(Int64(number * factor * 1000))
        }
        return Double(text).map { .milliseconds(Int64($0 * 1000)) }
    }
}

/// The config file cannot be read.
public struct ClientConfigError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "the config file \(path) is not valid YAML for telepresence (\(reason)); fix or remove it" }
}
