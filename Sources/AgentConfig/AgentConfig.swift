import Foundation

/// What the traffic-manager decides for one workload's agents and every agent of it reads: the
/// workload, where the manager is, the app containers and, for each engaged port, how the agent
/// takes it over. The manager keeps it in the workload namespace's ConfigMap
/// `telepresence-agents` under the workload's name (JSON, which is YAML too); the injector mounts
/// that entry into the agent as `/etc/traffic-agent/config.yaml`. Field names are Telepresence's
/// (`pkg/agentconfig/sidecar.go`).
public struct AgentConfig: Codable, Sendable, Hashable {
    /// The workload's name, which is the agent's name.
    public var agentName: String
    public var namespace: String
    public var workloadName: String
    /// Deployment, ReplicaSet or StatefulSet.
    public var workloadKind: String
    /// The image of the agent container (the manager's own image).
    public var agentImage: String
    public var pullPolicy: String
    /// Where the agent finds the manager's API: `traffic-manager.<manager namespace>` and its port.
    public var managerHost: String
    public var managerPort: Int
    /// The port of the agent's tunnel in the pod (clients claim their sessions on it).
    public var tunnelPort: Int
    public var logLevel: String
    public var containers: [Container]

    public init(
        agentName: String, namespace: String, workloadName: String, workloadKind: String, agentImage: String,
        pullPolicy: String = "IfNotPresent", managerHost: String, managerPort: Int = 8081,
        tunnelPort: Int = AgentNames.defaultTunnelPort, logLevel: String = "info", containers: [Container]
    ) {
        self.agentName = agentName
        self.namespace = namespace
        self.workloadName = workloadName
        self.workloadKind = workloadKind
        self.agentImage = agentImage
        self.pullPolicy = pullPolicy
        self.managerHost = managerHost
        self.managerPort = managerPort
        self.tunnelPort = tunnelPort
        self.logLevel = logLevel
        self.containers = containers
    }

    /// An app container: its env comes to the agent under `_TEL_APP_<envPrefix>`, its volumes
    /// under `mountPoint`. Containers without engaged ports are listed too, for env and mounts.
    public struct Container: Codable, Sendable, Hashable {
        public var name: String
        /// `A_`, `B_`, ... in the order of the pod's containers.
        public var envPrefix: String
        /// `/tel_app_mounts/<name>`: where the agent sees the container's volumes.
        public var mountPoint: String
        /// The container's volume mount paths.
        public var mounts: [String]
        public var intercepts: [Intercept]
        /// A `replace` holds the container: the injector leaves it out of the pods, and the agent
        /// listens on each of its ports (listed in `intercepts` with agentPort == containerPort).
        public var replace: Bool

        public init(
            name: String, envPrefix: String, mountPoint: String, mounts: [String] = [], intercepts: [Intercept] = [],
            replace: Bool = false
        ) {
            self.name = name
            self.envPrefix = envPrefix
            self.mountPoint = mountPoint
            self.mounts = mounts
            self.intercepts = intercepts
            self.replace = replace
        }

        enum CodingKeys: String, CodingKey {
            case name, envPrefix, mountPoint, mounts, intercepts, replace
        }

        /// A config written before `replace` existed reads as not replaced.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            envPrefix = try container.decode(String.self, forKey: .envPrefix)
            mountPoint = try container.decode(String.self, forKey: .mountPoint)
            mounts = try container.decodeIfPresent([String].self, forKey: .mounts) ?? []
            intercepts = try container.decodeIfPresent([Intercept].self, forKey: .intercepts) ?? []
            replace = try container.decodeIfPresent(Bool.self, forKey: .replace) ?? false
        }
    }

    /// One service port of the container that the agent takes over.
    public struct Intercept: Codable, Sendable, Hashable {
        public var serviceName: String
        public var serviceUID: String
        public var servicePortName: String
        public var servicePort: Int
        /// TCP or UDP.
        public var `protocol`: String
        /// The Service's targetPort is a number (or the Service is headless): the init container
        /// redirects `containerPort` to `agentPort` in the pod's network namespace. Otherwise the
        /// app's port is renamed and the agent's port takes its name.
        public var targetPortNumeric: Bool
        public var headless: Bool
        /// The app's port name (empty when it has none) and number.
        public var containerPortName: String
        public var containerPort: Int
        /// Where the agent listens for this port (9900, 9901, ...).
        public var agentPort: Int

        public init(
            serviceName: String, serviceUID: String, servicePortName: String, servicePort: Int, protocol: String,
            targetPortNumeric: Bool, headless: Bool = false, containerPortName: String, containerPort: Int, agentPort: Int
        ) {
            self.serviceName = serviceName
            self.serviceUID = serviceUID
            self.servicePortName = servicePortName
            self.servicePort = servicePort
            self.protocol = `protocol`
            self.targetPortNumeric = targetPortNumeric
            self.headless = headless
            self.containerPortName = containerPortName
            self.containerPort = containerPort
            self.agentPort = agentPort
        }

        /// Whether the init container must redirect this port (no Service name to take over).
        public var needsRedirect: Bool { targetPortNumeric || headless }
    }

    /// Whether any port needs the init container's redirect (a replaced container's ports never
    /// do: the agent listens on them itself).
    public var needsInitContainer: Bool {
        containers.contains { !$0.replace && $0.intercepts.contains(where: \.needsRedirect) }
    }

    /// The containers that `replace` holds (the manager replaces one at a time).
    public var replacedContainers: [Container] { containers.filter(\.replace) }

    /// The config as stored in the ConfigMap (sorted keys, so an unchanged config is unchanged text
    /// and writes no new revision).
    public func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Reads a config (the ConfigMap entry or the mounted file).
    public static func decode(_ text: String) throws(AgentConfigError) -> AgentConfig {
        do {
            return try JSONDecoder().decode(AgentConfig.self, from: Data(text.utf8))
        } catch {
            throw .malformed("\(error)")
        }
    }
}

public enum AgentConfigError: Error, CustomStringConvertible, Equatable {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): "the traffic-agent's configuration cannot be read: \(reason)"
        }
    }
}
