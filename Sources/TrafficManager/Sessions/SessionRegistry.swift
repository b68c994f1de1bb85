import Foundation

/// The traffic-manager's client sessions as a state machine without I/O or clocks: the caller
/// passes `now`. A session lives while its client calls `remain` within `ttl`; `expire` ends
/// the ones that went quiet (a laptop that slept, a daemon that was killed).
public struct SessionRegistry: Sendable {
    /// One client's session.
    public struct Session: Sendable, Equatable {
        public let id: String
        public let client: ClientIdentity
        public let arrived: ContinuousClock.Instant
        public var lastSeen: ContinuousClock.Instant
    }

    /// What a client says about itself when it arrives.
    public struct ClientIdentity: Sendable, Equatable {
        public var name: String
        public var installID: String
        public var namespace: String
        public var mappedNamespaces: [String]
        public var version: String

        public init(name: String, installID: String, namespace: String, mappedNamespaces: [String], version: String) {
            self.name = name
            self.installID = installID
            self.namespace = namespace
            self.mappedNamespaces = mappedNamespaces
            self.version = version
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownSession(String)

        public var description: String {
            switch self {
            case .unknownSession(let id):
                "session \(id) is not known to the traffic-manager (it expired or the manager restarted); arrive again"
            }
        }
    }

    /// How long a session lives without a `remain`.
    public let ttl: Duration
    public private(set) var sessions: [String: Session] = [:]

    public init(ttl: Duration) { self.ttl = ttl }

    /// Starts a session and returns its id (`makeID` lets tests choose ids).
    public mutating func arrive(
        _ client: ClientIdentity, now: ContinuousClock.Instant, makeID: () -> String = { UUID().uuidString.lowercased() }
    ) -> String {
        let id = makeID()
        sessions[id] = Session(id: id, client: client, arrived: now, lastSeen: now)
        return id
    }

    /// Keeps a session alive.
    public mutating func remain(_ id: String, now: ContinuousClock.Instant) throws(Failure) {
        guard sessions[id] != nil else { throw .unknownSession(id) }
        sessions[id]?.lastSeen = now
    }

    /// Ends a session; ending an unknown one is not an error (the client may have expired).
    @discardableResult
    public mutating func depart(_ id: String) -> Session? {
        sessions.removeValue(forKey: id)
    }

    /// Whether a session is alive (for the calls that carry a session id).
    public func isAlive(_ id: String) -> Bool { sessions[id] != nil }

    /// Ends the sessions not seen for `ttl` and returns them.
    public mutating func expire(now: ContinuousClock.Instant) -> [Session] {
        let expired = sessions.values.filter { now - $0.lastSeen > ttl }
        for session in expired { sessions.removeValue(forKey: session.id) }
        return expired.sorted { $0.id < $1.id }
    }
}
