import AgentConfig
import Diagnostics
import Foundation
import RPC

/// What the agent knows at start: its config (the mounted ConfigMap entry), its pod (the
/// downward API's env the injector set), where its ready file is, and its own environment
/// (which carries the app containers' env under `_TEL_APP_<prefix>`).
public struct AgentSettings: Sendable {
    /// Overrides the config file's path (tests).
    public static let configPathEnv = "AGENT_CONFIG"
    /// Overrides the ready file's path (tests).
    public static let readyFileEnv = "AGENT_READY_FILE"

    public var config: AgentConfig
    public var podIP: String
    public var podName: String
    public var readyFile: String
    public var environment: [String: String]

    public init(config: AgentConfig, podIP: String, podName: String, readyFile: String = AgentNames.readyFile, environment: [String: String] = [:]) {
        self.config = config
        self.podIP = podIP
        self.podName = podName
        self.readyFile = readyFile
        self.environment = environment
    }

    /// Reads the config file named by the environment (or the default) and the pod's env.
    public static func load(environment: [String: String]) throws(AgentSettingsError) -> AgentSettings {
        let path = environment[configPathEnv] ?? AgentNames.configFile
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        let config: AgentConfig
        do {
            config = try AgentConfig.decode(text)
        } catch {
            throw .malformed(path: path, reason: "\(error)".split(whereSeparator: \.isNewline).joined(separator: " "))
        }
        return AgentSettings(
            config: config,
            podIP: environment[AgentNames.podIPEnv] ?? "",
            podName: environment[AgentNames.podNameEnv] ?? environment["HOSTNAME"] ?? "",
            readyFile: environment[readyFileEnv] ?? AgentNames.readyFile,
            environment: environment)
    }

    /// Who the agent is when it arrives.
    public var agentInfo: Telepresence_Manager_AgentInfo {
        .with { info in
            info.name = config.agentName
            info.namespace = config.namespace
            info.kind = config.workloadKind
            info.podName = podName
            info.podIp = podIP
            info.tunnelPort = Int32(config.tunnelPort)
            info.product = "traffic-agent"
            info.version = ProductVersion.current
            info.containers = config.containers.map { container in
                Telepresence_Manager_AgentContainer.with {
                    $0.name = container.name
                    $0.environment = Self.environment(of: container, agentEnvironment: environment)
                    $0.mounts = container.mounts
                }
            }
        }
    }

    /// An app container's environment as Kubernetes resolved it: the agent's `_TEL_APP_<prefix>`
    /// vars with the prefix stripped, over the service links and KUBERNETES_* vars of the
    /// agent's own env (same pod, same namespace: the app has the same ones), plus
    /// TELEPRESENCE_CONTAINER and TELEPRESENCE_MOUNTS.
    public static func environment(of container: AgentConfig.Container, agentEnvironment: [String: String]) -> [String: String] {
        var result: [String: String] = [:]
        for (key, value) in agentEnvironment where isServiceLink(key, value) || key.hasPrefix("KUBERNETES_") {
            result[key] = value
        }
        let prefix = AgentNames.appEnvPrefix + container.envPrefix
        for (key, value) in agentEnvironment where key.hasPrefix(prefix) && key.count > prefix.count {
            result[String(key.dropFirst(prefix.count))] = value
        }
        result["TELEPRESENCE_CONTAINER"] = container.name
        result["TELEPRESENCE_MOUNTS"] = container.mounts.joined(separator: ":")
        return result
    }

    /// Whether `key=value` is one of the service-link vars Kubernetes sets for each Service of the
    /// namespace: `X_SERVICE_HOST`, `X_SERVICE_PORT[_NAME]`, `X_PORT=tcp://...`,
    /// `X_PORT_<n>_<PROTO>[_PROTO|_PORT|_ADDR]`.
    static func isServiceLink(_ key: String, _ value: String) -> Bool {
        if key.hasPrefix(AgentNames.appEnvPrefix) { return false }
        if key.hasSuffix("_SERVICE_HOST") || key.hasSuffix("_SERVICE_PORT") || key.contains("_SERVICE_PORT_") { return true }
        if key.hasSuffix("_PORT"), ["tcp://", "udp://", "sctp://"].contains(where: { value.hasPrefix($0) }) { return true }
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard let index = parts.indices.first(where: { $0 > 0 && parts[$0] == "PORT" && $0 + 1 < parts.count && Int(parts[$0 + 1]) != nil })
        else { return false }
        let rest = parts[(index + 1)...]
        guard rest.count == 2 || rest.count == 3, let first = rest.first, Int(first) != nil else { return false }
        let proto = rest[rest.startIndex + 1]
        guard ["TCP", "UDP", "SCTP"].contains(String(proto)) else { return false }
        return rest.count == 2 || ["PROTO", "PORT", "ADDR"].contains(String(rest.last!))
    }
}

/// Why the agent cannot start: its configuration.
public enum AgentSettingsError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "traffic-agent: cannot read its configuration \(path) (\(reason)); the ConfigMap \(AgentNames.configMap) must hold an entry for this workload"
        case .malformed(let path, let reason):
            "traffic-agent: its configuration \(path) is malformed (\(reason)); remove the workload's entry from the ConfigMap \(AgentNames.configMap) and intercept again"
        }
    }
}
