import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import HTTPRouting
import Logging
import RPC
import Synchronization
import SwiftProtobuf

/// The agent's session with the traffic-manager: ArriveAsAgent, then Remain every
/// `remainInterval` and WatchIntercepts (each snapshot goes to the data plane, whose reviews
/// go back with ReviewIntercept), until the session is lost (the manager went away, or said
/// NOT_FOUND); then it arrives again with back-off (0.1 s doubling to 3 s), forever. The ready
/// file exists exactly while a session is held. Cancelling `run` departs and returns.
/// manager.proto's messages stay in this file and `AgentSettings`.
public final class AgentSession: Sendable {
    public struct Timing: Sendable {
        public var remainInterval: Duration = .seconds(5)
        public var callTimeout: Duration = .seconds(5)
        public var firstBackoff: Duration = .milliseconds(100)
        public var maxBackoff: Duration = .seconds(3)
        public var departTimeout: Duration = .seconds(1)
        public init() {}
    }

    let settings: AgentSettings
    let plane: AgentDataPlane
    let timing: Timing
    let logger: Logger
    let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    let manager: Telepresence_Manager_Manager.Client<HTTP2ClientTransport.Posix>
    private let current = Mutex<Telepresence_Manager_SessionInfo?>(nil)
    private let arrivals = Mutex(0)

    public init(settings: AgentSettings, plane: AgentDataPlane, timing: Timing = Timing(), logger: Logger) throws {
        self.settings = settings
        self.plane = plane
        self.timing = timing
        self.logger = logger
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.backoff = .init(initial: .milliseconds(100), max: .seconds(3), multiplier: 2, jitter: 0.1)
        config.connection.maxIdleTime = nil
        let transport = try HTTP2ClientTransport.Posix(
            target: ResolvableTargets.DNS(host: settings.config.managerHost, port: settings.config.managerPort),
            transportSecurity: .plaintext, config: config)
        grpc = GRPCClient(transport: transport)
        manager = Telepresence_Manager_Manager.Client(wrapping: grpc)
    }

    /// The session held now (nil while arriving).
    public var session: Telepresence_Manager_SessionInfo? { current.withLock { $0 } }
    /// How many times the agent has arrived.
    public var arrivalCount: Int { arrivals.withLock { $0 } }

    /// Runs until cancelled; then departs (at most `departTimeout`) and stops gRPC.
    public func run() async {
        let connections = Task { [grpc, logger] in
            do { try await grpc.runConnections() } catch { logger.warning("gRPC client to the traffic-manager stopped: \(error)") }
        }
        let loop = Task { await self.arriveForever() }
        let notices = Task { await self.sendNotices() }
        await withTaskCancellationHandler {
            await loop.value
        } onCancel: {
            loop.cancel()
            notices.cancel()
        }
        notices.cancel()
        // Not a child of the cancelled task: the Depart call itself must not be cancelled.
        await Task { await self.depart() }.value
        removeReadyFile()
        grpc.beginGracefulShutdown()
        connections.cancel()
        await connections.value
    }

    private func arriveForever() async {
        var backoff = timing.firstBackoff
        while !Task.isCancelled {
            do {
                let info = settings.agentInfo
                let session = try await withDeadline(timing.callTimeout) {
                    try await self.manager.arriveAsAgent(request: ClientRequest(message: info))
                }
                _ = try await plane.sessionRestarted().get()
                current.withLock { $0 = session }
                arrivals.withLock { $0 += 1 }
                backoff = timing.firstBackoff
                writeReadyFile()
                logger.info("arrived at the traffic-manager as \(session.sessionID)")
                try await serve(session)
            } catch where Task.isCancelled {
                return
            } catch {
                if session != nil {
                    logger.info("the session with the traffic-manager was lost (\(Self.describe(error))); arriving again")
                } else {
                    logger.debug("cannot arrive at the traffic-manager yet: \(Self.describe(error))")
                }
            }
            removeReadyFile()
            current.withLock { $0 = nil }
            if Task.isCancelled { return }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, timing.maxBackoff)
        }
    }

    /// Keeps `session` until it is lost (throws) or the task is cancelled.
    private func serve(_ session: Telepresence_Manager_SessionInfo) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: self.timing.remainInterval)
                    try await withDeadline(self.timing.callTimeout) {
                        _ = try await self.manager.remain(request: ClientRequest(message: .with { $0.session = session }))
                    }
                }
            }
            group.addTask {
                try await self.manager.watchIntercepts(request: ClientRequest(message: session)) { response in
                    for try await snapshot in response.messages {
                        try await self.apply(snapshot, session: session)
                    }
                }
                throw RPCError(code: .unavailable, message: "the traffic-manager ended the intercepts stream")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func apply(_ snapshot: Telepresence_Manager_InterceptInfoSnapshot, session: Telepresence_Manager_SessionInfo) async throws {
        let reviews = try await plane.update(snapshot: snapshot.intercepts.map(Self.assignment)).get()
        for review in reviews {
            let request = Telepresence_Manager_ReviewInterceptRequest.with {
                $0.session = session
                $0.interceptID = review.id
                switch review.verdict {
                case .active:
                    $0.disposition = .active
                case .agentError(let message):
                    $0.disposition = .agentError
                    $0.message = message
                }
            }
            do {
                try await withDeadline(timing.callTimeout) {
                    _ = try await self.manager.reviewIntercept(request: ClientRequest(message: request))
                }
                logger.info("intercept \(review.id): \(review.verdict == .active ? "active" : "refused")")
            } catch let error as RPCError where [.notFound, .permissionDenied, .invalidArgument, .failedPrecondition].contains(error.code) {
                // The intercept ended meanwhile (or is not this agent's): nothing to confirm, and
                // the session is fine. Anything else (the manager is gone) ends the session.
                logger.info("the traffic-manager did not take the review of intercept \(review.id): \(error.message)")
            }
        }
    }

    /// The data plane's notices (a wiretap's copy was cut) as ReviewIntercept ACTIVE with the
    /// message, which the manager keeps as the engagement's note. Without a session a notice
    /// is dropped: it is news, not state.
    private func sendNotices() async {
        for await notice in plane.notices {
            guard let session = current.withLock({ $0 }) else { continue }
            let request = Telepresence_Manager_ReviewInterceptRequest.with {
                $0.session = session
                $0.interceptID = notice.engagementID
                $0.disposition = .active
                $0.message = notice.message
            }
            do {
                try await withDeadline(timing.callTimeout) {
                    _ = try await self.manager.reviewIntercept(request: ClientRequest(message: request))
                }
            } catch {
                logger.info("the traffic-manager did not take a notice for \(notice.engagementID): \(Self.describe(error))")
            }
        }
    }

    static func assignment(_ info: Telepresence_Manager_InterceptInfo) -> InterceptAssignment {
        let state: InterceptAssignment.State = switch info.disposition {
        case .active: .active
        case .waiting, .unspecified: .waiting
        default: .ended
        }
        return InterceptAssignment(
            id: info.id, clientSession: info.clientSessionID, state: state, containerName: info.spec.containerName,
            agentPort: Int(info.spec.agentPort), protocol: info.spec.protocol,
            targetHost: info.spec.targetHost.isEmpty ? "127.0.0.1" : info.spec.targetHost, targetPort: Int(info.spec.targetPort),
            // An unknown kind was refused by the manager; read as an intercept it moves nothing new.
            kind: info.spec.engagementKind ?? .intercept, filter: info.spec.filter,
            replacedPorts: info.spec.replacedPorts.map {
                InterceptAssignment.Port(agentPort: Int($0.agentPort), protocol: $0.protocol, targetPort: Int($0.targetPort))
            })
    }

    private func depart() async {
        guard let session = current.withLock({ $0 }) else { return }
        current.withLock { $0 = nil }
        do {
            try await withDeadline(timing.departTimeout) {
                _ = try await self.manager.depart(request: ClientRequest(message: session))
            }
            logger.info("departed from the traffic-manager")
        } catch {
            logger.debug("depart failed: \(Self.describe(error))")
        }
    }

    private func writeReadyFile() {
        let url = URL(fileURLWithPath: settings.readyFile)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.createFile(atPath: settings.readyFile, contents: Data()) {
            logger.warning("cannot create the ready file \(settings.readyFile); the pod will not turn ready")
        }
    }

    private func removeReadyFile() {
        try? FileManager.default.removeItem(atPath: settings.readyFile)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? RPCError { return "\(error.code): \(error.message)" }
        return "\(error)"
    }
}

/// Runs `body`, failing with `AgentDeadlineExceeded` after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw AgentDeadlineExceeded(limit: limit)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

struct AgentDeadlineExceeded: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}
