import Foundation
import Logging
import Synchronization

/// The live `SessionRegistry` of a running manager: the clock, the lock, and the loop that
/// expires sessions whose clients stopped calling Remain.
public final class SessionKeeper: Sendable {
    private let registry: Mutex<SessionRegistry>
    private let logger: Logger
    /// Called with the id of each session that departs or expires (engagements end with it).
    private let onEnd: @Sendable (String) -> Void

    public init(ttl: Duration, logger: Logger, onEnd: @escaping @Sendable (String) -> Void = { _ in }) {
        registry = Mutex(SessionRegistry(ttl: ttl))
        self.logger = logger
        self.onEnd = onEnd
    }

    /// Starts an agent's session: its id starts with `agent:`, and it lives by Remain like a
    /// client's.
    public func arriveAsAgent(_ agent: SessionRegistry.ClientIdentity) -> String {
        let id = registry.withLock { $0.arrive(agent, now: .now, makeID: { "agent:" + UUID().uuidString.lowercased() }) }
        logger.info("agent \(agent.name) arrived: session \(id), namespace \(agent.namespace)")
        return id
    }

    /// The session with this id, while it lives.
    public func session(_ id: String) -> SessionRegistry.Session? { registry.withLock { $0.sessions[id] } }

    public func arrive(_ client: SessionRegistry.ClientIdentity) -> String {
        let id = registry.withLock { $0.arrive(client, now: .now) }
        logger.info("client \(client.name) arrived: session \(id), namespace \(client.namespace)")
        return id
    }

    public func remain(_ id: String) throws(SessionRegistry.Failure) {
        try registry.withLock { registry throws(SessionRegistry.Failure) in try registry.remain(id, now: .now) }
    }

    public func depart(_ id: String) {
        if let session = registry.withLock({ $0.depart(id) }) {
            logger.info("\(id.hasPrefix("agent:") ? "agent" : "client") \(session.client.name) departed: session \(id)")
            onEnd(id)
        }
    }

    public func isAlive(_ id: String) -> Bool { registry.withLock { $0.isAlive(id) } }

    /// The number of live sessions.
    public var count: Int { registry.withLock { $0.sessions.count } }

    /// Expires quiet sessions every `interval` until cancelled.
    public func runExpiry(interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let expired = registry.withLock { $0.expire(now: .now) }
            for session in expired {
                logger.info("session \(session.id) of \(session.client.name) expired")
                onEnd(session.id)
            }
        }
    }
}
