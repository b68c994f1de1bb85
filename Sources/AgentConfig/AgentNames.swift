/// The names the injector, the agent, the agent's init container, the manager and `uninstall`
/// agree on. Where Telepresence has a name, it is Telepresence's (annotations under
/// `telepresence.io/`, container `traffic-agent`, init container `tel-agent-init`, ConfigMap
/// `telepresence-agents`, env prefix `_TEL_APP_`, ports from 9900).
public enum AgentNames {
    /// The ConfigMap (in each workload namespace) holding one agent config per workload.
    public static let configMap = "telepresence-agents"
    /// The agent sidecar and the init container that redirects numeric target ports.
    public static let container = "traffic-agent"
    public static let initContainer = "tel-agent-init"
    /// The agent container's volume of its config (the ConfigMap entry) and where it is mounted.
    public static let configVolume = "traffic-config"
    public static let configDirectory = "/etc/traffic-agent"
    public static let configFile = "/etc/traffic-agent/config.yaml"
    /// An emptyDir at /tmp in the agent; `/tmp/agent/ready` exists once the agent has arrived
    /// (its readiness probe checks it).
    public static let tmpVolume = "tel-agent-tmp"
    public static let readyFile = "/tmp/agent/ready"
    /// App container volumes are re-mounted in the agent under `/tel_app_mounts/<container>`.
    public static let appMountsRoot = "/tel_app_mounts"
    /// App env copied into the agent as `_TEL_APP_<envPrefix><NAME>`.
    public static let appEnvPrefix = "_TEL_APP_"
    /// The agent's own env: its pod's IP and name (downward API).
    public static let podIPEnv = "_TEL_AGENT_POD_IP"
    public static let podNameEnv = "_TEL_AGENT_NAME"
    /// The first agent port; each engaged container port gets the next one.
    public static let firstAgentPort = 9900
    /// The agent's tunnel port in the pod.
    public static let defaultTunnelPort = 9899

    /// Pod (template) annotations and labels.
    public static let annotationPrefix = "telepresence.io/"
    /// `enabled` injects at once, `disabled` never; absent: on demand, once a config exists.
    public static let injectAnnotation = "telepresence.io/inject-traffic-agent"
    /// Set on a workload's pod template by the manager to roll it (and removed to roll it back).
    public static let restartedAtAnnotation = "telepresence.io/restartedAt"
    public static let workloadNameLabel = "telepresence.io/workloadName"
    public static let workloadKindLabel = "telepresence.io/workloadKind"
    public static let workloadEnabledLabel = "telepresence.io/workloadEnabled"
    /// Optional template annotations that steer the config (Telepresence's).
    public static let injectServiceName = "telepresence.io/inject-service-name"
    public static let injectServicePorts = "telepresence.io/inject-service-ports"
    public static let injectContainerPorts = "telepresence.io/inject-container-ports"
    public static let injectIgnoreVolumeMounts = "telepresence.io/inject-ignore-volume-mounts"

    /// The agent's container port of its tunnel, by name.
    public static let tunnelPortName = "tunnel"
    /// The file name of the config in the agent's config directory (the ConfigMap item's path).
    public static let configFileName = "config.yaml"
    /// The emptyDir mounted at /tmp in the agent (the ready file lives below it).
    public static let tmpDirectory = "/tmp"
    /// The `traffic` subcommands the agent and its init container run (their args).
    public static let agentCommand = "agent"
    public static let initCommand = "agent-init"
    /// The init container's env: the agent's log level and its pod's IP (downward API).
    public static let initLogLevelEnv = "LOG_LEVEL"
    public static let initPodIPEnv = "POD_IP"

    /// The prefix the app's port names get when the agent takes them over (`tm-http`).
    public static let hiddenPortPrefix = "tm-"

    /// The env prefix of the container at `index` in the pod: A_, B_, ..., Z_, BA_, ... (base 26).
    public static func envPrefix(index: Int) -> String {
        var digits: [Character] = []
        var n = index
        repeat {
            digits.append(Character(UnicodeScalar(UInt8(65 + n % 26))))
            n /= 26
        } while n > 0
        return String(digits.reversed()) + "_"
    }
}
