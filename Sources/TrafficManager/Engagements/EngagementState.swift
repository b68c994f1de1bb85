import Foundation
import RPC

/// The manager's engagements as a state machine without I/O or clocks (the caller passes `now`):
/// the agents that arrived, the intercepts clients hold, the agents' reviews of them, and the
/// rules between them (one holder per workload port, one name per client, cleanup when a
/// session ends). The live side (`EngagementKeeper`) adds the lock and the watchers.
public struct EngagementState: Sendable {
    /// An agent: one per pod of an engaged workload, with a session id starting with `agent:`.
    public struct Agent: Sendable, Equatable {
        public var sessionID: String
        /// The workload's name (the agent's name), its namespace and kind.
        public var name: String
        public var namespace: String
        public var kind: String
        public var podName: String
        public var podIP: String
        public var tunnelPort: Int
        public var containers: [AgentContainer]

        public init(
            sessionID: String, name: String, namespace: String, kind: String, podName: String, podIP: String,
            tunnelPort: Int, containers: [AgentContainer]
        ) {
            self.sessionID = sessionID
            self.name = name
            self.namespace = namespace
            self.kind = kind
            self.podName = podName
            self.podIP = podIP
            self.tunnelPort = tunnelPort
            self.containers = containers
        }
    }

    /// An app container as its agent reported it.
    public struct AgentContainer: Sendable, Equatable {
        public var name: String
        public var environment: [String: String]
        public var mounts: [String]

        public init(name: String, environment: [String: String], mounts: [String]) {
            self.name = name
            self.environment = environment
            self.mounts = mounts
        }
    }

    public enum Disposition: Sendable, Equatable {
        /// Created; not every arrived agent of the workload has confirmed it.
        case waiting
        /// Every arrived agent of the workload confirmed it (it stays active while pods roll).
        case active
        /// An agent refused it, with the agent's message.
        case agentError(String)
    }

    /// An agent's verdict on one intercept.
    public enum Review: Sendable, Equatable {
        case active
        case error(String)
    }

    /// An intercept a client holds.
    public struct Intercept: Sendable, Equatable {
        /// `<client session id>:<name>`.
        public var id: String
        public var clientSessionID: String
        /// The resolved spec (client, workload kind, ports filled in).
        public var spec: Telepresence_Manager_InterceptSpec
        public var created: Date
        public var disposition: Disposition
        /// The reviews of the agents that arrived, by agent session.
        public var reviews: [String: Review]
        /// The latest message of an agent's ACTIVE review (a wiretap's cut notice), shown as a note.
        public var note: String = ""

        public var name: String { spec.name }
        public var workload: WorkloadKey { WorkloadKey(namespace: spec.namespace, name: spec.agent) }
    }

    /// A workload as agents and intercepts name it.
    public struct WorkloadKey: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public init(namespace: String, name: String) {
            self.namespace = namespace
            self.name = name
        }
    }

    public private(set) var agents: [String: Agent] = [:]
    public private(set) var intercepts: [String: Intercept] = [:]

    public init() {}

    public static let agentSessionPrefix = "agent:"

    public static func isAgentSession(_ id: String) -> Bool { id.hasPrefix(agentSessionPrefix) }

    public static func interceptID(clientSession: String, name: String) -> String { "\(clientSession):\(name)" }

    // MARK: agents

    /// An agent arrived (or arrived again with a new session: a pod has one agent, so an earlier
    /// session of the same pod is dropped with its reviews).
    public mutating func arrive(_ agent: Agent) {
        for old in agents.values where old.sessionID != agent.sessionID && old.namespace == agent.namespace && old.podName == agent.podName {
            agents.removeValue(forKey: old.sessionID)
            for key in intercepts.keys { intercepts[key]?.reviews.removeValue(forKey: old.sessionID) }
        }
        agents[agent.sessionID] = agent
        recomputeDispositions(of: WorkloadKey(namespace: agent.namespace, name: agent.name))
    }

    /// The agents of a workload, sorted by pod name.
    public func agents(of workload: WorkloadKey) -> [Agent] {
        agents.values.filter { $0.namespace == workload.namespace && $0.name == workload.name }.sorted { $0.podName < $1.podName }
    }

    // MARK: intercepts

    /// Adds an engagement in WAITING (every agent reviews each new one). Refuses a second
    /// engagement of the same name by the same client and one that `EngagementRules` says
    /// conflicts with another (the refusal names it, its client and its filter).
    @discardableResult
    public mutating func create(
        _ spec: Telepresence_Manager_InterceptSpec, clientSession: String, now: Date
    ) throws(EngagementError) -> Intercept {
        let id = Self.interceptID(clientSession: clientSession, name: spec.name)
        if let existing = intercepts[id] {
            throw .duplicateName(
                name: spec.name, kind: (existing.spec.engagementKind ?? .intercept).rawValue, holding: Self.portDescription(existing.spec))
        }
        if let holder = EngagementRules.conflict(of: spec, among: intercepts.values.sorted { $0.created < $1.created }) {
            throw .conflict(
                subject: EngagementRules.subject(spec, holder: holder.spec), verb: EngagementRules.verb(holder.spec),
                client: holder.spec.client, kind: (holder.spec.engagementKind ?? .intercept).rawValue, name: holder.name,
                what: EngagementRules.description(holder.spec), since: holder.created)
        }
        let intercept = Intercept(
            id: id, clientSessionID: clientSession, spec: spec, created: now, disposition: .waiting, reviews: [:])
        intercepts[id] = intercept
        return intercept
    }

    /// Ends one of a client's intercepts and returns it.
    @discardableResult
    public mutating func remove(clientSession: String, name: String) throws(EngagementError) -> Intercept {
        guard let removed = intercepts.removeValue(forKey: Self.interceptID(clientSession: clientSession, name: name)) else {
            throw .unknownIntercept(name: name)
        }
        return removed
    }

    /// Ends an intercept by id (nil when it is already gone).
    @discardableResult
    public mutating func remove(id: String) -> Intercept? { intercepts.removeValue(forKey: id) }

    /// Ends every intercept of a workload (before its agent is uninstalled).
    @discardableResult
    public mutating func removeIntercepts(of workload: WorkloadKey) -> [Intercept] {
        let gone = intercepts.values.filter { $0.workload == workload }
        for intercept in gone { intercepts.removeValue(forKey: intercept.id) }
        return gone.sorted { $0.id < $1.id }
    }

    /// An agent's verdict on an intercept of its workload; an ACTIVE verdict's message (a
    /// wiretap's cut notice) is kept as the engagement's note.
    public mutating func review(
        agentSession: String, interceptID: String, verdict: Review, message: String = ""
    ) throws(EngagementError) {
        guard let agent = agents[agentSession] else { throw .unknownAgent(agentSession) }
        guard var intercept = intercepts[interceptID] else { throw .unknownInterceptID(interceptID) }
        guard intercept.workload == WorkloadKey(namespace: agent.namespace, name: agent.name) else {
            throw .notAgentsIntercept(interceptID: interceptID, agent: agent.name)
        }
        intercept.reviews[agentSession] = verdict
        if verdict == .active && !message.isEmpty { intercept.note = message }
        intercepts[interceptID] = intercept
        recompute(interceptID)
    }

    /// Marks an intercept ACTIVE: every current pod of its workload has an agent that confirmed
    /// it (agents of pods that are going away may not have).
    public mutating func markActive(_ id: String) {
        intercepts[id]?.disposition = .active
    }

    // MARK: sessions

    /// A session departed or expired: a client's intercepts end; an agent is dropped (and its
    /// reviews with it). Returns the intercepts that ended.
    @discardableResult
    public mutating func sessionEnded(_ id: String) -> [Intercept] {
        if let agent = agents.removeValue(forKey: id) {
            let workload = WorkloadKey(namespace: agent.namespace, name: agent.name)
            for key in intercepts.keys where intercepts[key]?.workload == workload {
                intercepts[key]?.reviews.removeValue(forKey: id)
            }
            recomputeDispositions(of: workload)
            return []
        }
        let gone = intercepts.values.filter { $0.clientSessionID == id }
        for intercept in gone { intercepts.removeValue(forKey: intercept.id) }
        return gone.sorted { $0.id < $1.id }
    }

    // MARK: snapshots

    /// What a session sees: a client its own intercepts; an agent the intercepts of its
    /// workload in its namespace. Sorted by id.
    public func snapshot(for session: String) -> [Intercept] {
        let selected: [Intercept]
        if Self.isAgentSession(session) {
            guard let agent = agents[session] else { return [] }
            let workload = WorkloadKey(namespace: agent.namespace, name: agent.name)
            selected = intercepts.values.filter { $0.workload == workload }
        } else {
            selected = intercepts.values.filter { $0.clientSessionID == session }
        }
        return selected.sorted { $0.id < $1.id }
    }

    /// The intercepts on a workload (any client's), sorted by id.
    public func intercepts(of workload: WorkloadKey) -> [Intercept] {
        intercepts.values.filter { $0.workload == workload }.sorted { $0.id < $1.id }
    }

    /// The agents that confirmed an intercept: where its client finds them. An ingest needs no
    /// confirmation (it moves no traffic): every arrived agent of its workload carries it.
    public func carriers(of interceptID: String) -> [Agent] {
        guard let intercept = intercepts[interceptID] else { return [] }
        if intercept.spec.engagementKind == .ingest { return agents(of: intercept.workload) }
        return agents(of: intercept.workload).filter { intercept.reviews[$0.sessionID] == .active }
    }

    // MARK: dispositions

    private mutating func recomputeDispositions(of workload: WorkloadKey) {
        for key in intercepts.keys where intercepts[key]?.workload == workload { recompute(key) }
    }

    /// WAITING until every arrived agent of the workload reviewed ACTIVE; AGENT_ERROR while an
    /// arrived agent's verdict is an error; once ACTIVE it stays so while new agents arrive
    /// (pods roll) and review it.
    private mutating func recompute(_ id: String) {
        guard var intercept = intercepts[id] else { return }
        let arrived = agents(of: intercept.workload)
        let verdicts = arrived.map { intercept.reviews[$0.sessionID] }
        // An ingest takes nothing over: an agent's verdict on it does not count.
        let ingest = intercept.spec.engagementKind == .ingest
        if !ingest, let message = verdicts.lazy.compactMap({ verdict -> String? in
            if case .error(let message)? = verdict { return message }
            return nil
        }).first {
            intercept.disposition = .agentError(message)
        } else if intercept.disposition == .active {
            // stays active
        } else if !arrived.isEmpty && (ingest || verdicts.allSatisfy({ $0 == .active })) {
            intercept.disposition = .active
        } else {
            intercept.disposition = .waiting
        }
        intercepts[id] = intercept
    }

    // MARK: rules

    /// `port 8080 of deployment echo` (with `/UDP` for UDP ports), `container echo of
    /// deployment echo` for a replace or an ingest.
    static func portDescription(_ spec: Telepresence_Manager_InterceptSpec) -> String {
        EngagementRules.subject(spec, holder: spec)
    }
}

/// Why an engagement operation was refused, as one sentence.
public enum EngagementError: Error, Equatable, CustomStringConvertible {
    case conflict(subject: String, verb: String, client: String, kind: String, name: String, what: String, since: Date)
    case duplicateName(name: String, kind: String, holding: String)
    case unknownIntercept(name: String)
    case unknownInterceptID(String)
    case unknownAgent(String)
    case notAgentsIntercept(interceptID: String, agent: String)

    public var description: String {
        switch self {
        case .conflict(let subject, let verb, let client, let kind, let name, let what, let since):
            "\(subject) is already \(verb) by \(client) (\(kind) \(name): \(what), since \(Self.clock(since)) UTC)"
        case .duplicateName(let name, let kind, let holding):
            "you already have \(kind.first.map { "aeiou".contains($0) } == true ? "an" : "a") \(kind) named \(name) (\(holding)); leave it first ('telepresence leave \(name)') or choose another name"
        case .unknownIntercept(let name):
            "you have no intercept named \(name); 'telepresence list --intercepts' shows yours"
        case .unknownInterceptID(let id):
            "intercept \(id) is not known to the traffic-manager (it was removed)"
        case .unknownAgent(let session):
            "session \(session) is not an arrived traffic-agent; arrive again"
        case .notAgentsIntercept(let id, let agent):
            "intercept \(id) is not one of workload \(agent)'s, so its agent cannot review it"
        }
    }

    /// `14:02:11`, in UTC.
    static func clock(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d:%02d:%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }
}
