import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RPC
import SwiftProtobuf
import Synchronization

/// A traffic-manager that implements only what an agent calls (ArriveAsAgent, Remain, Depart,
/// WatchIntercepts, ReviewIntercept) and records every call; the rest answers UNIMPLEMENTED.
/// The real manager's side of these calls is built and tested in TrafficManager.
final class TestManager: Telepresence_Manager_Manager.SimpleServiceProtocol, Sendable {
    struct State: Sendable {
        var arrivals: [Telepresence_Manager_AgentInfo] = []
        var pendingArrivals = 0
        var sessions: Set<String> = []
        var remains = 0
        var departed: [String] = []
        var reviews: [Telepresence_Manager_ReviewInterceptRequest] = []
        var snapshot: [Telepresence_Manager_InterceptInfo] = []
        var watchers: [Int: AsyncStream<[Telepresence_Manager_InterceptInfo]>.Continuation] = [:]
        var nextWatcher = 0
        var arrivalGate: Bool = true
        var stopping = false
    }
    let state = Mutex(State())

    var arrivals: [Telepresence_Manager_AgentInfo] { state.withLock { $0.arrivals } }
    var remains: Int { state.withLock { $0.remains } }
    var departed: [String] { state.withLock { $0.departed } }
    var reviews: [Telepresence_Manager_ReviewInterceptRequest] { state.withLock { $0.reviews } }
    var pendingArrivals: Int { state.withLock { $0.pendingArrivals } }

    /// Holds arrivals until `openGate` (to see the agent not ready before it arrived).
    func closeGate() { state.withLock { $0.arrivalGate = false } }
    func openGate() { state.withLock { $0.arrivalGate = true } }

    /// Forgets every session, as a manager whose sessions expired: the next Remain is NOT_FOUND.
    func forgetSessions() { state.withLock { $0.sessions = [] } }

    /// A new snapshot of the workload's intercepts, sent to every watcher.
    /// With `known`, the manager holds only those by the time the agent reviews (an intercept
    /// that ended right after the snapshot went out).
    func publish(_ intercepts: [Telepresence_Manager_InterceptInfo], known: [Telepresence_Manager_InterceptInfo]? = nil) {
        let watchers = state.withLock { state in
            state.snapshot = known ?? intercepts
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.yield(intercepts) }
    }

    func arriveAsAgent(request: Telepresence_Manager_AgentInfo, context: ServerContext) async throws -> Telepresence_Manager_SessionInfo {
        state.withLock { $0.pendingArrivals += 1 }
        while !state.withLock({ $0.arrivalGate }) { try await Task.sleep(for: .milliseconds(10)) }
        let id = "agent:\(request.name)-\(UUID().uuidString.prefix(8))"
        state.withLock {
            $0.pendingArrivals -= 1
            $0.arrivals.append(request)
            $0.sessions.insert(id)
        }
        return .with { $0.sessionID = id; $0.clusterID = "cluster" }
    }

    func remain(request: Telepresence_Manager_RemainRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        let known = state.withLock { state in
            state.remains += 1
            return state.sessions.contains(request.session.sessionID)
        }
        guard known else { throw RPCError(code: .notFound, message: "session \(request.session.sessionID) not found") }
        return Google_Protobuf_Empty()
    }

    func depart(request: Telepresence_Manager_SessionInfo, context: ServerContext) async throws -> Google_Protobuf_Empty {
        state.withLock {
            $0.departed.append(request.sessionID)
            $0.sessions.remove(request.sessionID)
        }
        return Google_Protobuf_Empty()
    }

    func watchIntercepts(
        request: Telepresence_Manager_SessionInfo, response: RPCWriter<Telepresence_Manager_InterceptInfoSnapshot>, context: ServerContext
    ) async throws {
        let (stream, continuation) = AsyncStream.makeStream(of: [Telepresence_Manager_InterceptInfo].self)
        if state.withLock({ $0.stopping }) { throw RPCError(code: .unavailable, message: "stopping") }
        let (key, first) = state.withLock { state in
            defer { state.nextWatcher += 1 }
            state.watchers[state.nextWatcher] = continuation
            return (state.nextWatcher, state.snapshot)
        }
        defer { _ = state.withLock { $0.watchers.removeValue(forKey: key) } }
        try await response.write(.with { $0.intercepts = first })
        for await snapshot in stream {
            try await response.write(.with { $0.intercepts = snapshot })
        }
    }

    func reviewIntercept(request: Telepresence_Manager_ReviewInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        let known = state.withLock { state in
            state.reviews.append(request)
            return state.snapshot.contains { $0.id == request.interceptID }
        }
        // As the real manager: an intercept that ended before its review is NOT_FOUND.
        guard known else { throw RPCError(code: .notFound, message: "intercept \(request.interceptID) not found") }
        return Google_Protobuf_Empty()
    }

    // Not an agent's calls.
    func version(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Manager_VersionInfo2 { throw unimplemented }
    func arriveAsClient(request: Telepresence_Manager_ClientInfo, context: ServerContext) async throws -> Telepresence_Manager_SessionInfo { throw unimplemented }
    func watchClusterInfo(request: Telepresence_Manager_SessionInfo, response: RPCWriter<Telepresence_Manager_ClusterInfo>, context: ServerContext) async throws { throw unimplemented }
    func watchWorkloads(request: Telepresence_Manager_WorkloadEventsRequest, response: RPCWriter<Telepresence_Manager_WorkloadEventsDelta>, context: ServerContext) async throws { throw unimplemented }
    func setLogLevel(request: Telepresence_Manager_LogLevelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty { throw unimplemented }
    func createIntercept(request: Telepresence_Manager_CreateInterceptRequest, context: ServerContext) async throws -> Telepresence_Manager_InterceptInfo { throw unimplemented }
    func removeIntercept(request: Telepresence_Manager_RemoveInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty { throw unimplemented }
    func uninstallAgents(request: Telepresence_Manager_UninstallAgentsRequest, context: ServerContext) async throws -> Telepresence_Manager_UninstallAgentsResult { throw unimplemented }

    private var unimplemented: RPCError { RPCError(code: .unimplemented, message: "not a call the agent makes") }

    /// Serves this service on 127.0.0.1:`port` until the returned task is cancelled. The port
    /// may still be held for a moment by a server that just stopped: binding is retried.
    func serve(port: Int) async throws -> (GRPCServer<HTTP2ServerTransport.Posix>, Task<Void, Never>) {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let server = GRPCServer(
                transport: HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext),
                services: [self])
            let task = Task { do { try await server.serve() } catch {} }
            do {
                _ = try await server.listeningAddress
                return (server, task)
            } catch where ContinuousClock.now < deadline {
                task.cancel()
                await task.value
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Ends every open WatchIntercepts stream (as a manager that stops).
    func endStreams() {
        let watchers = state.withLock { Array($0.watchers.values) }
        for watcher in watchers { watcher.finish() }
    }

    /// Stops `server` gracefully: streams end, no new ones start, the calls in flight finish.
    /// (Cancelling a serving gRPC server while a stream is being opened trips an assertion in
    /// NIO's async writer; a graceful stop never does.)
    func stop(_ server: GRPCServer<HTTP2ServerTransport.Posix>, _ serving: Task<Void, Never>) async {
        state.withLock { $0.stopping = true }
        endStreams()
        server.beginGracefulShutdown()
        await serving.value
        state.withLock { $0.stopping = false }
    }
}
