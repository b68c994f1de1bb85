import AgentConfig

/// An intercept as the agent sees it in the manager's snapshots (manager.proto's InterceptInfo,
/// reduced to what decides where connections go).
public struct InterceptAssignment: Sendable, Hashable {
    public enum State: Sendable, Hashable {
        /// The manager waits for its agents' reviews.
        case waiting
        /// Every agent carries it: connections to its port go to its client.
        case active
        /// Removed, refused or otherwise over: the agent does not carry it.
        case ended
    }

    /// "<client session id>:<name>".
    public var id: String
    public var clientSession: String
    public var state: State
    /// The engaged container (empty: any container with the agent port).
    public var containerName: String
    public var agentPort: Int
    /// TCP or UDP.
    public var `protocol`: String
    /// Where the client dials on the workstation.
    public var targetHost: String
    public var targetPort: Int

    public init(
        id: String, clientSession: String, state: State, containerName: String, agentPort: Int, protocol: String,
        targetHost: String, targetPort: Int
    ) {
        self.id = id
        self.clientSession = clientSession
        self.state = state
        self.containerName = containerName
        self.agentPort = agentPort
        self.protocol = `protocol`
        self.targetHost = targetHost
        self.targetPort = targetPort
    }
}

/// The agent's verdict on an intercept it was given (ReviewIntercept).
public struct InterceptReview: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        case active
        case agentError(String)
    }

    public var id: String
    public var verdict: Verdict
}

/// Where a new connection to one of the agent's ports goes.
public enum ConnectionRoute: Sendable, Hashable {
    /// No intercept: to the app at 127.0.0.1:containerPort, unchanged.
    case app(containerPort: Int)
    /// To the client of the intercept over its claimed tunnel, to be dialled there at the target.
    case client(session: String, interceptID: String, targetHost: String, targetPort: Int)
    /// The intercept is active but its client has claimed no tunnel yet: hold the connection
    /// for a while (then reset it).
    case awaitClaim(session: String, interceptID: String)
    /// Not one of the agent's ports (cannot happen with listeners made from the config).
    case unknownPort
}

/// The agent's decisions without I/O: which intercepts of the manager's snapshots it carries
/// (and what it answers for new ones), which sessions may claim a tunnel, and where each new
/// connection to a taken-over port goes. Fed by the session (snapshots) and the tunnel
/// listener (claims, tunnels closed); asked by the port listeners.
public struct AgentRouter: Sendable {
    public let config: AgentConfig
    /// The intercepts of the latest snapshot, in its order.
    public private(set) var intercepts: [InterceptAssignment] = []
    /// The ids already answered in this session with the manager.
    private var reviewed: Set<String> = []
    /// The sessions whose clients hold a claimed tunnel now.
    public private(set) var claimedSessions: Set<String> = []

    public init(config: AgentConfig) {
        self.config = config
    }

    /// The config's intercept that carries `agentPort` (in `container` when given).
    public func configuredIntercept(agentPort: Int, container: String = "") -> (AgentConfig.Container, AgentConfig.Intercept)? {
        for c in config.containers where container.isEmpty || c.name == container {
            if let i = c.intercepts.first(where: { $0.agentPort == agentPort }) { return (c, i) }
        }
        return nil
    }

    /// Why the agent cannot carry `intercept`, or nil when it can.
    public func refusal(of intercept: InterceptAssignment) -> String? {
        guard let (_, configured) = configuredIntercept(agentPort: intercept.agentPort, container: intercept.containerName) else {
            let container = intercept.containerName.isEmpty ? "" : " of container \(intercept.containerName)"
            return "the traffic-agent of \(config.agentName) has no agent port \(intercept.agentPort)\(container) in its configuration; its pod predates the configuration and must be restarted"
        }
        guard configured.protocol.uppercased() == intercept.protocol.uppercased() || intercept.protocol.isEmpty else {
            return "the traffic-agent of \(config.agentName) takes port \(intercept.agentPort) over as \(configured.protocol), not \(intercept.protocol)"
        }
        return nil
    }

    /// A new snapshot: returns the reviews owed for intercepts not answered before in this
    /// session (waiting or active ones), and the ids no longer carried.
    public mutating func apply(snapshot: [InterceptAssignment]) -> (reviews: [InterceptReview], removed: [String]) {
        let before = Set(carried.map(\.id))
        intercepts = snapshot
        // An intercept that ended is forgotten: one made again under the same id (the same
        // client and name after a leave) is a new one and is reviewed again.
        reviewed.formIntersection(snapshot.filter { $0.state != .ended }.map(\.id))
        var reviews: [InterceptReview] = []
        for intercept in snapshot where intercept.state != .ended && !reviewed.contains(intercept.id) {
            reviewed.insert(intercept.id)
            if let reason = refusal(of: intercept) {
                reviews.append(InterceptReview(id: intercept.id, verdict: .agentError(reason)))
            } else {
                reviews.append(InterceptReview(id: intercept.id, verdict: .active))
            }
        }
        let after = Set(carried.map(\.id))
        return (reviews, before.subtracting(after).sorted())
    }

    /// A new session with the manager: every intercept is reviewed again (the manager may be a
    /// new one); what the agent carries stays until the new session's first snapshot.
    public mutating func sessionRestarted() {
        reviewed = []
    }

    /// The intercepts the agent carries: waiting or active, and within its config.
    public var carried: [InterceptAssignment] {
        intercepts.filter { $0.state != .ended && refusal(of: $0) == nil }
    }

    /// Whether a tunnel claiming `session` is accepted: that client holds an intercept here.
    public func mayClaim(session: String) -> Bool {
        carried.contains { $0.clientSession == session }
    }

    public mutating func claimed(session: String) {
        claimedSessions.insert(session)
        everClaimed.insert(session)
    }

    /// Sessions that claimed a tunnel here at some point. Only their connections wait for a
    /// claim (a tunnel being re-established); before a client's first claim the app answers:
    /// the client claims before its `intercept` returns, and the pods' own probes must pass
    /// while the workload rolls (a numeric port's probes reach the agent too).
    public private(set) var everClaimed: Set<String> = []

    public mutating func unclaimed(session: String) {
        claimedSessions.remove(session)
    }

    /// Where a new connection to `agentPort` goes now. An active intercept takes it (to its
    /// client's tunnel, or to wait for one); a waiting one only once its client has claimed a
    /// tunnel (the client claims after CreateIntercept said ACTIVE, so the manager's next
    /// snapshot would say so too; routing at the claim does not wait for that snapshot).
    public func route(agentPort: Int) -> ConnectionRoute {
        guard let (_, configured) = configuredIntercept(agentPort: agentPort) else { return .unknownPort }
        let intercept = carried.first { $0.agentPort == agentPort && $0.state == .active }
            ?? carried.first { $0.agentPort == agentPort && claimedSessions.contains($0.clientSession) }
        guard let intercept else {
            return .app(containerPort: configured.containerPort)
        }
        guard claimedSessions.contains(intercept.clientSession) else {
            guard everClaimed.contains(intercept.clientSession) else { return .app(containerPort: configured.containerPort) }
            return .awaitClaim(session: intercept.clientSession, interceptID: intercept.id)
        }
        return .client(session: intercept.clientSession, interceptID: intercept.id,
                       targetHost: intercept.targetHost, targetPort: intercept.targetPort)
    }
}
