import AgentConfig

/// What the injector needs to know about the manager it runs in: where agents find it, the
/// image agents run (the manager's own) and the agents' log level.
public struct InjectorSettings: Sendable, Hashable {
    /// The agent dials `traffic-manager.<managerNamespace>:<managerPort>`.
    public var managerNamespace: String
    /// The manager's own image; the agent and its init container run it too.
    public var agentImage: String
    public var managerPort: Int
    public var logLevel: String

    public init(managerNamespace: String, agentImage: String, managerPort: Int = 8081, logLevel: String = "info") {
        self.managerNamespace = managerNamespace
        self.agentImage = agentImage
        self.managerPort = managerPort
        self.logLevel = logLevel
    }

    /// `traffic-manager.<namespace>`, the host the agent dials.
    public var managerHost: String { "traffic-manager.\(managerNamespace)" }
}

/// Why a workload cannot get an agent: one sentence for the user, saying what to do.
public struct InjectorError: Error, CustomStringConvertible, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
