import ClientSupport
import Foundation
import GRPCCore
import KubeClient
import Logging
import RPC

/// This client's engagements while connected: it asks the manager for intercepts, keeps them
/// (following WatchIntercepts: agents change as pods roll; an intercept gone or REMOVED has
/// ended), keeps a claimed tunnel to each of their agent pods, the --to-pod forwarders, and
/// the handler processes the CLI registered, which it signals when their intercept ends.
actor Engagements {
    struct Entry {
        var intercept: Intercept
        var handlers: Set<Int32> = []
        var forwarders: [ToPodForwarder] = []
        /// Whether a WatchIntercepts snapshot has shown it: only then does its absence from a
        /// snapshot mean it ended (a snapshot sent just before CreateIntercept answered can
        /// arrive after the answer).
        var seen = false
    }

    let session: ManagerSession
    let namespace: String
    let managerNamespace: String
    let client: KubeClient?
    let tunnels: AgentTunnels
    let logger: Logger
    /// How long `create` waits for the first agent tunnel to be claimed.
    let claimTimeout: Duration
    private var entries: [String: Entry] = [:]
    private var watcher: Task<Void, Never>?

    init(session: ManagerSession, namespace: String, managerNamespace: String, opener: AgentTunnelOpener,
         logger: Logger, claimTimeout: Duration = .seconds(10)) {
        self.session = session
        self.namespace = namespace
        self.managerNamespace = managerNamespace
        self.client = opener.client
        self.logger = logger
        self.claimTimeout = claimTimeout
        self.tunnels = AgentTunnels(opener: opener, logger: logger) { [session] in session.current.sessionID }
    }

    /// This client's intercepts now.
    var intercepts: [Intercept] {
        entries.values.map(\.intercept).sorted { $0.name < $1.name }
    }

    /// Intercepts a workload: the manager makes it ACTIVE (rolling the workload the first
    /// time), then a tunnel to each agent pod is claimed; nothing is kept when a step fails.
    func create(_ request: InterceptRequest) async -> InterceptOutcome {
        if let existing = entries[request.name] {
            let kind = existing.intercept.kind.rawValue
            return .failed(.conflict, "you already have \(kind.first.map { "aeiou".contains($0) } == true ? "an" : "a") \(kind) named \(request.name); end it with 'telepresence leave \(request.name)' or choose another name")
        }
        var spec = request.spec
        if spec.namespace.isEmpty { spec.namespace = namespace }
        let intercept: Intercept
        do {
            intercept = try await session.createIntercept(spec)
        } catch {
            logger.info("intercept \(request.name) refused: \(error)")
            return InterceptFailure.outcome(for: error, managerNamespace: managerNamespace)
        }
        guard intercept.isActive else {
            try? await session.removeIntercept(name: request.name)
            return InterceptFailure.outcome(for: intercept)
        }
        entries[request.name] = Entry(intercept: intercept)
        startWatching()
        await tunnels.follow(intercepts)
        // The path of the first agent says how connections arrive; a client that reaches no
        // agent at all holds nothing.
        var path: AgentPath?
        var failure: String?
        for agent in intercept.agents {
            let state = await tunnels.claimed(agent, timeout: claimTimeout)
            if let claimed = state.path {
                path = path ?? claimed
            } else {
                failure = failure ?? state.lastError
            }
        }
        // An ingest moves no traffic: it holds without a tunnel (the claim is tried again as
        // tunnels are; mounts will need it).
        if path == nil && !intercept.agents.isEmpty && intercept.kind == .ingest {
            logger.info("ingest \(request.name): no tunnel to its traffic-agent yet (\(failure ?? "no answer")); it holds without one")
        } else if path == nil && !intercept.agents.isEmpty {
            await end(request.name, removeFromManager: true, signal: false)
            return .failed(.agentError, (failure ?? "no traffic-agent of \(intercept.workload) could be reached") + "; the intercept was removed")
        }
        for text in request.toPod {
            let port = Int(text.split(separator: "/").first ?? "") ?? 0
            do {
                let forwarder = try await ToPodForwarder.start(port: port, client: client, logger: logger) { [weak self] in
                    await self?.entries[request.name]?.intercept.agents.first
                }
                // The manager may have ended the intercept while this one was set up (its
                // watch said so): a forwarder no entry holds would never be stopped.
                guard entries[request.name] != nil else {
                    await forwarder.stop()
                    return .failed(.agentError, "the traffic-manager ended intercept \(request.name) while it was being set up; try again")
                }
                entries[request.name]?.forwarders.append(forwarder)
            } catch {
                await end(request.name, removeFromManager: true, signal: false)
                return .failed(.badArgs, "--to-pod \(port): 127.0.0.1:\(port) is not free on this machine (\(error)); choose another port")
            }
        }
        logger.info("intercept \(intercept.name) of \(intercept.workload) active: \(intercept.agents.count) agent(s), \(path?.rawValue ?? "no agent yet")")
        return InterceptOutcome(intercept: entries[request.name]?.intercept ?? intercept, path: (path ?? .portForward).rawValue)
    }

    /// `leave NAME [-c CONTAINER]` (the container, when given, must be the engaged one).
    func remove(name: String, container: String = "") async -> InterceptOutcome {
        guard let entry = entries[name] else {
            return .failed(.notFound, "there is no engagement named \(name); 'telepresence list' shows them")
        }
        if !container.isEmpty && entry.intercept.containerName != container {
            return .failed(.notFound, "\(entry.intercept.kind.rawValue) \(name) engages container \(entry.intercept.containerName), not \(container); leave it without -c or with -c \(entry.intercept.containerName)")
        }
        await end(name, removeFromManager: true, signal: true)
        return InterceptOutcome(intercept: entry.intercept)
    }

    /// Registers the handler process of an intercept (by id or name).
    func addInterceptor(interceptID: String, pid: Int32) -> Bool {
        guard let name = entries.first(where: { $0.value.intercept.id == interceptID || $0.key == interceptID })?.key else { return false }
        entries[name]?.handlers.insert(pid)
        return true
    }

    /// Ends every intercept (quit, disconnect).
    func endAll() async {
        watcher?.cancel()
        watcher = nil
        for name in entries.keys { await end(name, removeFromManager: true, signal: true) }
        await tunnels.closeAll()
    }

    private func end(_ name: String, removeFromManager: Bool, signal: Bool) async {
        guard let entry = entries.removeValue(forKey: name) else { return }
        if removeFromManager {
            do { try await session.removeIntercept(name: name) } catch { logger.info("removing intercept \(name): \(error)") }
        }
        if signal { for pid in entry.handlers { kill(pid, SIGTERM) } }
        for forwarder in entry.forwarders { await forwarder.stop() }
        await tunnels.follow(intercepts)
        logger.info("intercept \(name) ended")
    }

    private func startWatching() {
        guard watcher == nil else { return }
        watcher = Task { [session, logger] in
            while !Task.isCancelled {
                do {
                    try await session.watchIntercepts { [weak self] snapshot in await self?.apply(snapshot) }
                } catch {
                    logger.debug("intercept watch ended: \(error)")
                }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// One snapshot of this client's intercepts from the manager.
    func apply(_ snapshot: [Intercept]) async {
        let byName = Dictionary(snapshot.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        for (name, entry) in entries {
            let current = byName[name]
            if current?.disposition == "REMOVED" || (current == nil && entry.seen) {
                logger.info("the traffic-manager ended intercept \(name)")
                await end(name, removeFromManager: false, signal: true)
                continue
            }
            guard let current else { continue }
            // WAITING while new pods arrive keeps the agents that carry it.
            entries[name]?.intercept = current
            entries[name]?.seen = true
        }
        await tunnels.follow(intercepts)
    }
}
