/// A workload of a namespace as `list` shows it: what it is, whether it can be engaged, and its
/// agent.
public struct Workload: Sendable, Equatable {
    public enum AgentState: Sendable, Equatable {
        case none, installed, engaged
    }

    public enum Health: Sendable, Equatable {
        case available, progressing, failing, unknown
    }

    public var name: String
    public var namespace: String
    /// Deployment, ReplicaSet or StatefulSet.
    public var kind: String
    public var health: Health
    public var agent: AgentState
    public var readyReplicas: Int
    public var replicas: Int
    /// Why it cannot be engaged (the manager's sentence); empty when it can.
    public var notEngageableReason: String
    /// The intercepts on it now (any client's).
    public var intercepts: [Intercept]

    public init(
        name: String, namespace: String, kind: String, health: Health = .available, agent: AgentState = .none,
        readyReplicas: Int = 0, replicas: Int = 0, notEngageableReason: String = "", intercepts: [Intercept] = []
    ) {
        self.notEngageableReason = notEngageableReason
        self.intercepts = intercepts
        self.name = name
        self.namespace = namespace
        self.kind = kind
        self.health = health
        self.agent = agent
        self.readyReplicas = readyReplicas
        self.replicas = replicas
    }
}

/// The workloads of one namespace.
public struct WorkloadListing: Sendable, Equatable {
    public var namespace: String
    public var workloads: [Workload]

    public init(namespace: String, workloads: [Workload]) {
        self.namespace = namespace
        self.workloads = workloads
    }
}
