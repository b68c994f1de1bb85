import AgentConfig
import HTTPRouting
import RPC

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
    public var kind: EngagementKind
    /// intercept and wiretap: only these HTTP requests (nil: every connection).
    public var filter: HTTPFilter?
    /// replace: the container's ports (the agent listens on each container port itself).
    public var replacedPorts: [Port]

    /// One port an engagement moves: where the agent listens and where the client dials.
    public struct Port: Sendable, Hashable {
        public var agentPort: Int
        public var `protocol`: String
        public var targetPort: Int

        public init(agentPort: Int, protocol: String, targetPort: Int) {
            self.agentPort = agentPort
            self.protocol = `protocol`
            self.targetPort = targetPort
        }
    }

    public init(
        id: String, clientSession: String, state: State, containerName: String, agentPort: Int, protocol: String,
        targetHost: String, targetPort: Int, kind: EngagementKind = .intercept, filter: HTTPFilter? = nil,
        replacedPorts: [Port] = []
    ) {
        self.id = id
        self.clientSession = clientSession
        self.state = state
        self.containerName = containerName
        self.agentPort = agentPort
        self.protocol = `protocol`
        self.targetHost = targetHost
        self.targetPort = targetPort
        self.kind = kind
        self.filter = filter
        self.replacedPorts = replacedPorts
    }

    /// The ports whose traffic (or copies of it) it moves: none for an ingest.
    public var ports: [Port] {
        switch kind {
        case .replace: replacedPorts
        case .ingest: []
        case .intercept, .wiretap: [Port(agentPort: agentPort, protocol: `protocol`, targetPort: targetPort)]
        }
    }

    /// Whether it takes the port's connections (or requests) rather than copies of them.
    var answers: Bool { kind == .intercept || kind == .replace }
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
    /// A replaced container's port with no replace engagement: no app listens there (the agent
    /// itself does), so the connection is reset.
    case noApp
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

    /// Why the agent cannot carry `engagement`, or nil when it can (one sentence).
    public func refusal(of engagement: InterceptAssignment) -> String? {
        let inContainer = engagement.containerName.isEmpty ? "" : " of container \(engagement.containerName)"
        if !engagement.containerName.isEmpty, !config.containers.contains(where: { $0.name == engagement.containerName }) {
            return "the traffic-agent of \(config.agentName) has no container \(engagement.containerName) in its configuration; its pod predates the configuration and must be restarted"
        }
        for port in engagement.ports {
            guard let (_, configured) = configuredIntercept(agentPort: port.agentPort, container: engagement.containerName) else {
                return "the traffic-agent of \(config.agentName) has no agent port \(port.agentPort)\(inContainer) in its configuration; its pod predates the configuration and must be restarted"
            }
            let configuredProtocol = configured.protocol.uppercased()
            guard configuredProtocol == port.protocol.uppercased() || port.protocol.isEmpty else {
                return "the traffic-agent of \(config.agentName) takes port \(port.agentPort) over as \(configured.protocol), not \(port.protocol)"
            }
            if engagement.filter != nil, configuredProtocol == "UDP" {
                return "HTTP filters need a TCP port that speaks HTTP; port \(configured.containerPort)/UDP does not"
            }
            if engagement.kind == .wiretap, configuredProtocol == "UDP" {
                return "a wiretap copies TCP traffic only; port \(configured.containerPort)/UDP is UDP: intercept it instead"
            }
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

    // MARK: Where traffic goes

    /// Whether an engagement routes now: active, or waiting with its client's tunnel claimed
    /// (the client claims after CreateIntercept said ACTIVE, so the manager's next snapshot
    /// would say so too; routing at the claim does not wait for that snapshot).
    private func routes(_ engagement: InterceptAssignment) -> Bool {
        engagement.state == .active || claimedSessions.contains(engagement.clientSession)
    }

    /// The carried, routing engagements on `agentPort`, in creation order, with that port.
    private func engagements(on agentPort: Int) -> [(InterceptAssignment, InterceptAssignment.Port)] {
        carried.filter(routes).compactMap { e in e.ports.first { $0.agentPort == agentPort }.map { (e, $0) } }
    }

    /// The engagement that takes every connection to `agentPort` (an unfiltered intercept or a
    /// replace): an active one first, else one whose client already claimed.
    private func taker(_ agentPort: Int) -> (InterceptAssignment, InterceptAssignment.Port)? {
        let takers = engagements(on: agentPort).filter { $0.0.answers && $0.0.filter == nil }
        return takers.first { $0.0.state == .active } ?? takers.first
    }

    private func upstream(_ engagement: InterceptAssignment, _ port: InterceptAssignment.Port) -> HTTPUpstream {
        .client(session: engagement.clientSession, engagementID: engagement.id, targetHost: engagement.targetHost, targetPort: port.targetPort)
    }

    /// Whether 127.0.0.1:containerPort of `agentPort` is the app: not for a replaced
    /// container's port, where the agent listens on the container port itself.
    public func hasApp(agentPort: Int) -> Bool {
        guard let (_, configured) = configuredIntercept(agentPort: agentPort) else { return false }
        return configured.agentPort != configured.containerPort
    }

    /// Where a new connection to `agentPort` goes now, as a whole (no HTTP reading). A taker
    /// takes it, to its client's tunnel, or to wait for one; before a client's first claim the
    /// app answers (see `everClaimed`) unless there is no app.
    public func route(agentPort: Int) -> ConnectionRoute {
        guard let (_, configured) = configuredIntercept(agentPort: agentPort) else { return .unknownPort }
        let app: ConnectionRoute = hasApp(agentPort: agentPort) ? .app(containerPort: configured.containerPort) : .noApp
        guard let (engagement, port) = taker(agentPort) else { return app }
        guard claimedSessions.contains(engagement.clientSession) else {
            guard everClaimed.contains(engagement.clientSession) || app == .noApp else { return app }
            return .awaitClaim(session: engagement.clientSession, interceptID: engagement.id)
        }
        return .client(session: engagement.clientSession, interceptID: engagement.id,
                       targetHost: engagement.targetHost, targetPort: port.targetPort)
    }

    /// Whether connections to `agentPort` must be read as HTTP: an HTTP-filtered intercept or
    /// wiretap is carried there. (Unfiltered wiretaps alone do not need it: a copy of the
    /// connection's bytes is a copy of every request, whatever the protocol.)
    public func needsHTTP(agentPort: Int) -> Bool {
        carried.contains { e in e.filter != nil && e.ports.contains { $0.agentPort == agentPort } }
    }

    /// The wiretaps that get a copy of every byte a client sends on `agentPort` (unfiltered
    /// ones whose client holds a claimed tunnel: a copy never waits for a claim).
    public func connectionCopies(agentPort: Int) -> [HTTPUpstream] {
        engagements(on: agentPort).filter { $0.0.kind == .wiretap && $0.0.filter == nil && claimedSessions.contains($0.0.clientSession) }
            .map(upstream)
    }

    /// Where one HTTP request to `agentPort` goes: the first filtered intercept that matches it
    /// (the manager refuses overlaps, so at most one does) once its client has claimed a tunnel
    /// here, else where the whole connection would go; copies to every wiretap that matches.
    /// A port without an app answers with `.app` too: connecting there fails.
    public func route(agentPort: Int, request: HTTPRequestSummary) -> HTTPRequestRoute {
        let here = engagements(on: agentPort)
        let copies = here.filter { e, _ in
            e.kind == .wiretap && claimedSessions.contains(e.clientSession)
                && (e.filter?.matches(path: request.path, headers: request.headers) ?? true)
        }.map(upstream)
        if let (e, port) = here.first(where: { e, _ in
            e.kind == .intercept && everClaimed.contains(e.clientSession)
                && e.filter?.matches(path: request.path, headers: request.headers) == true
        }) {
            return HTTPRequestRoute(answer: upstream(e, port), copies: copies)
        }
        let containerPort = configuredIntercept(agentPort: agentPort)?.1.containerPort ?? agentPort
        switch route(agentPort: agentPort) {
        case .client, .awaitClaim:
            let (e, port) = taker(agentPort)!
            return HTTPRequestRoute(answer: upstream(e, port), copies: copies)
        case .app, .noApp, .unknownPort:
            return HTTPRequestRoute(answer: .app(containerPort: containerPort), copies: copies)
        }
    }
}
