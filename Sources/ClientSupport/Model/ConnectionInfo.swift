/// The user daemon's connection to a cluster, as `connect` and `status` report it.
public struct ConnectionInfo: Sendable, Equatable {
    /// Whether the session with the traffic-manager is up, or being re-established.
    public enum SessionState: String, Sendable, Equatable {
        case connected, reconnecting
    }

    public var clusterServer: String
    public var clusterContext: String
    public var namespace: String
    public var managerNamespace: String
    public var mappedNamespaces: [String]
    public var sessionID: String
    public var clusterID: String
    public var managerVersion: ComponentVersion
    public var clusterInfo: ClusterInfo
    public var sessionState: SessionState
    /// How long the connect took.
    public var connectDuration: Duration
    /// What the link to the manager goes through ("port-forward to pod ...", "127.0.0.1:8081").
    public var managerLink: String
    /// How often the session was re-established.
    public var reconnects: Int
    /// The workstation's network (the root daemon's part).
    public var network: NetworkStatus
    /// This client's intercepts.
    public var intercepts: [Intercept]
    /// Things the user should know, said once and not as errors.
    public var notes: [String]

    public init(
        clusterServer: String, clusterContext: String, namespace: String, managerNamespace: String,
        mappedNamespaces: [String] = [], sessionID: String = "", clusterID: String = "",
        managerVersion: ComponentVersion = ComponentVersion(name: "", version: ""), clusterInfo: ClusterInfo = ClusterInfo(),
        sessionState: SessionState = .connected, connectDuration: Duration = .zero, managerLink: String = "",
        reconnects: Int = 0, network: NetworkStatus = .disconnected, intercepts: [Intercept] = [], notes: [String] = []
    ) {
        self.intercepts = intercepts
        self.notes = notes
        self.clusterServer = clusterServer
        self.clusterContext = clusterContext
        self.namespace = namespace
        self.managerNamespace = managerNamespace
        self.mappedNamespaces = mappedNamespaces
        self.sessionID = sessionID
        self.clusterID = clusterID
        self.managerVersion = managerVersion
        self.clusterInfo = clusterInfo
        self.sessionState = sessionState
        self.connectDuration = connectDuration
        self.managerLink = managerLink
        self.reconnects = reconnects
        self.network = network
    }
}

/// A component's name and version ("Traffic Manager", "2.1.0").
public struct ComponentVersion: Sendable, Equatable {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

/// A daemon's version and whereabouts (the answer to Version).
public struct DaemonVersion: Sendable, Equatable {
    public var name: String
    public var version: String
    public var executable: String
    public var pid: Int32

    public init(name: String, version: String, executable: String = "", pid: Int32) {
        self.name = name
        self.version = version
        self.executable = executable
        self.pid = pid
    }
}
