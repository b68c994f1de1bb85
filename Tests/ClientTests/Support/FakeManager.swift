import ClientSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import RPC
import SwiftProtobuf
import Synchronization

/// A test double of the traffic-manager's gRPC API with the calls the user daemon makes:
/// sessions, cluster info, workloads, and intercepts answered by `onCreate` (which a test sets
/// to return an ACTIVE intercept with agents, or throw the manager's RPCError). Intercepts are
/// kept and pushed to WatchIntercepts whole on each change, as manager.proto says.
final class FakeManager: Telepresence_Manager_Manager.SimpleServiceProtocol, Sendable {
    struct State {
        var sessions: Set<String> = []
        var intercepts: [String: Telepresence_Manager_InterceptInfo] = [:]
        var removed: [String] = []
        var uninstalled: [String] = []
        var workloads: [Telepresence_Manager_WorkloadInfo] = []
        var watchers: [UUID: AsyncStream<Void>.Continuation] = [:]
    }

    typealias CreateHandler = @Sendable (Telepresence_Manager_CreateInterceptRequest) throws -> Telepresence_Manager_InterceptInfo

    let state = Mutex(State())
    private let create = Mutex<CreateHandler?>(nil)
    private let running = Mutex<(server: GRPCServer<HTTP2ServerTransport.Posix>, task: Task<Void, Never>, port: Int)?>(nil)
    var port: Int { running.withLock { $0?.port ?? 0 } }

    private init() {}

    /// Starts serving on 127.0.0.1 (any free port).
    static func start() async throws -> FakeManager {
        let manager = FakeManager()
        let server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
            services: [manager])
        let task = Task { do { try await server.serve() } catch {} }
        guard let address = try await server.listeningAddress?.ipv4 else {
            task.cancel()
            throw RPCError(code: .unavailable, message: "the fake manager did not listen")
        }
        manager.running.withLock { $0 = (server, task, address.port) }
        return manager
    }

    func stop() async {
        state.withLock { state in for watcher in state.watchers.values { watcher.finish() } }
        guard let running = running.withLock({ $0 }) else { return }
        // Cancelling the server's task ends the streams that never end by themselves (cluster
        // info, workloads) instead of waiting for them as a graceful shutdown would.
        running.task.cancel()
        await running.task.value
    }

    func onCreate(_ handler: @escaping CreateHandler) { create.withLock { $0 = handler } }

    var intercepts: [Telepresence_Manager_InterceptInfo] { state.withLock { Array($0.intercepts.values) } }

    /// Changes an intercept as the manager would (agents rolled, or REMOVED) and tells watchers.
    func update(_ name: String, _ change: (inout Telepresence_Manager_InterceptInfo) -> Void) {
        state.withLock { state in
            guard var info = state.intercepts[name] else { return }
            change(&info)
            state.intercepts[name] = info
        }
        broadcast()
    }

    /// Ends an intercept from the manager's side (e.g. the workload was deleted).
    func drop(_ name: String) {
        _ = state.withLock { $0.intercepts.removeValue(forKey: name) }
        broadcast()
    }

    private func broadcast() {
        for watcher in state.withLock({ Array($0.watchers.values) }) { watcher.yield() }
    }

    // MARK: Manager API

    func version(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Manager_VersionInfo2 {
        .with {
            $0.name = "Traffic Manager"
            $0.version = "0.0.0-fake"
        }
    }

    func arriveAsClient(request: Telepresence_Manager_ClientInfo, context: ServerContext) async throws -> Telepresence_Manager_SessionInfo {
        let id = "client-\(UUID().uuidString.prefix(8).lowercased())"
        state.withLock { _ = $0.sessions.insert(id) }
        return .with { $0.sessionID = id }
    }

    func remain(request: Telepresence_Manager_RemainRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        Google_Protobuf_Empty()
    }

    func depart(request: Telepresence_Manager_SessionInfo, context: ServerContext) async throws -> Google_Protobuf_Empty {
        state.withLock { _ = $0.sessions.remove(request.sessionID) }
        return Google_Protobuf_Empty()
    }

    func watchClusterInfo(request: Telepresence_Manager_SessionInfo, response: RPCWriter<Telepresence_Manager_ClusterInfo>, context: ServerContext) async throws {
        try await response.write(.with { $0.clusterDomain = "cluster.local" })
        try await Task.sleep(for: .seconds(3600))
    }

    func watchWorkloads(request: Telepresence_Manager_WorkloadEventsRequest, response: RPCWriter<Telepresence_Manager_WorkloadEventsDelta>, context: ServerContext) async throws {
        let workloads = state.withLock { $0.workloads }
        try await response.write(.with {
            $0.snapshot = true
            $0.events = workloads.map { workload in .with { $0.workload = workload } }
        })
        try await Task.sleep(for: .seconds(3600))
    }

    func setLogLevel(request: Telepresence_Manager_LogLevelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        Google_Protobuf_Empty()
    }

    func arriveAsAgent(request: Telepresence_Manager_AgentInfo, context: ServerContext) async throws -> Telepresence_Manager_SessionInfo {
        throw RPCError(code: .unimplemented, message: "the fake manager has no agents")
    }

    func createIntercept(request: Telepresence_Manager_CreateInterceptRequest, context: ServerContext) async throws -> Telepresence_Manager_InterceptInfo {
        guard let handler = create.withLock({ $0 }) else {
            throw RPCError(code: .unimplemented, message: "the fake manager was given no answer")
        }
        var info = try handler(request)
        info.clientSessionID = request.session.sessionID
        if info.id.isEmpty { info.id = "\(request.session.sessionID):\(request.spec.name)" }
        if info.disposition == .active {
            state.withLock { $0.intercepts[request.spec.name] = info }
            broadcast()
        }
        return info
    }

    func removeIntercept(request: Telepresence_Manager_RemoveInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        let found = state.withLock { state -> Bool in
            state.removed.append(request.name)
            return state.intercepts.removeValue(forKey: request.name) != nil
        }
        guard found else { throw RPCError(code: .notFound, message: "there is no intercept named \(request.name)") }
        broadcast()
        return Google_Protobuf_Empty()
    }

    func watchIntercepts(request: Telepresence_Manager_SessionInfo, response: RPCWriter<Telepresence_Manager_InterceptInfoSnapshot>, context: ServerContext) async throws {
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        state.withLock { $0.watchers[id] = continuation }
        defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
        continuation.yield()
        for await _ in changes {
            let mine = state.withLock { $0.intercepts.values.filter { $0.clientSessionID == request.sessionID } }
            try await response.write(.with { $0.intercepts = mine.sorted { $0.spec.name < $1.spec.name } })
        }
    }

    func reviewIntercept(request: Telepresence_Manager_ReviewInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw RPCError(code: .unimplemented, message: "the fake manager has no agents")
    }

    func uninstallAgents(request: Telepresence_Manager_UninstallAgentsRequest, context: ServerContext) async throws -> Telepresence_Manager_UninstallAgentsResult {
        state.withLock { $0.uninstalled += request.workloads }
        return .with { $0.removed = request.workloads }
    }
}

