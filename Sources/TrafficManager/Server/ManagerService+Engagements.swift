import Foundation
import GRPCCore
import HTTPRouting
import RPC
import SwiftProtobuf

// Engagements: agents arrive and review intercepts; clients create, watch and remove them; the
// state is `EngagementState` (in `engagements`), the cluster work `InterceptCoordinator`.
extension ManagerService {
    func arriveAsAgent(request: Telepresence_Manager_AgentInfo, context: ServerContext) async throws -> Telepresence_Manager_SessionInfo {
        guard !request.name.isEmpty, !request.namespace.isEmpty, !request.podName.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "an agent must say its workload's name, its namespace and its pod's name when it arrives")
        }
        let id = sessions.arriveAsAgent(SessionRegistry.ClientIdentity(
            name: request.podName, installID: "", namespace: request.namespace, mappedNamespaces: [], version: request.version))
        _ = try? engagements.change { state throws(EngagementError) in
            state.arrive(EngagementState.Agent(
                sessionID: id, name: request.name, namespace: request.namespace, kind: request.kind, podName: request.podName,
                podIP: request.podIp, tunnelPort: Int(request.tunnelPort),
                containers: request.containers.map {
                    EngagementState.AgentContainer(name: $0.name, environment: $0.environment, mounts: $0.mounts)
                }))
        }
        let cluster = await clusterID()
        return .with {
            $0.sessionID = id
            $0.clusterID = cluster
        }
    }

    func createIntercept(request: Telepresence_Manager_CreateInterceptRequest, context: ServerContext) async throws -> Telepresence_Manager_InterceptInfo {
        let sessionID = request.session.sessionID
        guard let session = sessions.session(sessionID), !EngagementState.isAgentSession(sessionID) else {
            throw RPCError(code: .notFound, message: SessionRegistry.Failure.unknownSession(sessionID).description)
        }
        var spec = request.spec
        guard !spec.agent.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "say which workload to intercept (telepresence intercept WORKLOAD)")
        }
        if spec.name.isEmpty { spec.name = spec.agent }
        if spec.namespace.isEmpty { spec.namespace = session.client.namespace }
        guard !spec.namespace.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "say the namespace of workload \(spec.agent) (-n NAMESPACE)")
        }
        guard let kind = spec.engagementKind else {
            throw RPCError(code: .invalidArgument, message: "engagement kind \(spec.kind) is unknown to this traffic-manager; use intercept, wiretap, replace or ingest")
        }
        guard spec.mechanism.isEmpty || spec.mechanism == "tcp" || spec.mechanism == "http" else {
            throw RPCError(code: .invalidArgument, message: "mechanism \(spec.mechanism) is unknown to this traffic-manager; use tcp or http")
        }
        if let filter = spec.filter {
            guard kind == .intercept || kind == .wiretap else {
                throw RPCError(code: .invalidArgument, message: "a \(kind.rawValue) takes no HTTP filter; only intercept and wiretap do")
            }
            do {
                _ = try HTTPFilter.parse(
                    headers: filter.headers.map { "\($0.name)=\($0.value)" }, pathEqual: filter.pathEqual,
                    pathPrefix: filter.pathPrefix, pathRegex: filter.pathRegex)
            } catch {
                throw RPCError(code: .invalidArgument, message: error.description)
            }
        }
        try requireManaged(spec.namespace)
        let coordinator = intercepts
        let clientName = session.client.name
        let frozen = spec
        let intercept = try await Self.endingWithTheRPC {
            try await coordinator.create(frozen, clientSession: sessionID, clientName: clientName)
        }
        return engagements.read { Self.message(intercept: $0.intercepts[intercept.id] ?? intercept, state: $0) }
    }

    func removeIntercept(request: Telepresence_Manager_RemoveInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        try requireSession(request.session.sessionID)
        let removed: EngagementState.Intercept
        do {
            removed = try engagements.change { state throws(EngagementError) in
                try state.remove(clientSession: request.session.sessionID, name: request.name)
            }
            logger.info("\((removed.spec.engagementKind ?? .intercept).rawValue) \(removed.id) removed by its client")
        } catch {
            throw RPCError(code: .notFound, message: error.description)
        }
        // A replace answers once its container's config is back (its pods roll back).
        await intercepts.ended([removed])
        return Google_Protobuf_Empty()
    }

    func watchIntercepts(
        request: Telepresence_Manager_SessionInfo, response: RPCWriter<Telepresence_Manager_InterceptInfoSnapshot>, context: ServerContext
    ) async throws {
        let id = request.sessionID
        try requireSession(id)
        let engagements = engagements
        let sessions = sessions
        try await Self.endingWithTheRPC {
            var last: Telepresence_Manager_InterceptInfoSnapshot?
            for await _ in engagements.changes() {
                guard sessions.isAlive(id) else {
                    throw RPCError(code: .notFound, message: SessionRegistry.Failure.unknownSession(id).description)
                }
                let snapshot = engagements.read { state in
                    Telepresence_Manager_InterceptInfoSnapshot.with {
                        $0.intercepts = state.snapshot(for: id).map { Self.message(intercept: $0, state: state) }
                    }
                }
                if snapshot != last {
                    try await response.write(snapshot)
                    last = snapshot
                }
            }
        }
    }

    func reviewIntercept(request: Telepresence_Manager_ReviewInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        let id = request.session.sessionID
        try requireSession(id)
        let verdict: EngagementState.Review
        switch request.disposition {
        case .active: verdict = .active
        case .agentError: verdict = .error(request.message.isEmpty ? "the traffic-agent refused it without saying why" : request.message)
        default:
            throw RPCError(code: .invalidArgument, message: "an agent reviews an intercept with ACTIVE or AGENT_ERROR, not \(request.disposition)")
        }
        do {
            try engagements.change { state throws(EngagementError) in
                try state.review(agentSession: id, interceptID: request.interceptID, verdict: verdict, message: request.message)
            }
        } catch {
            switch error {
            case .unknownAgent: throw RPCError(code: .permissionDenied, message: error.description)
            case .notAgentsIntercept: throw RPCError(code: .permissionDenied, message: error.description)
            default: throw RPCError(code: .notFound, message: error.description)
            }
        }
        return Google_Protobuf_Empty()
    }

    func uninstallAgents(request: Telepresence_Manager_UninstallAgentsRequest, context: ServerContext) async throws -> Telepresence_Manager_UninstallAgentsResult {
        try requireSession(request.session.sessionID)
        guard !request.namespace.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "say the namespace whose agents to remove (-n NAMESPACE)")
        }
        guard request.allAgents || !request.workloads.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "say which workloads' agents to remove, or all of them (--all-agents)")
        }
        try requireManaged(request.namespace)
        let removed = try await intercepts.uninstall(namespace: request.namespace, workloads: request.workloads, all: request.allAgents)
        return .with { $0.removed = removed }
    }

    /// Runs `body` until it ends or the RPC is cancelled (gRPC signals a client that went away
    /// or gave up through the context, not by cancelling the handler's task), so a waiting
    /// CreateIntercept removes its intercept and a watch stops.
    static func endingWithTheRPC<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        return try await withRPCCancellationHandler {
            try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        } onCancelRPC: {
            task.cancel()
        }
    }

    func requireManaged(_ namespace: String) throws {
        if !settings.managedNamespaces.isEmpty && !settings.managedNamespaces.contains(namespace) {
            throw RPCError(
                code: .permissionDenied,
                message: "namespace \(namespace) is not managed by this traffic-manager (it manages \(settings.managedNamespaces.joined(separator: ", "))); add it with 'telepresence helm upgrade --set managerRbac.namespaces={...}'")
        }
    }

    /// The intercept as clients and agents see it: its agents (those that confirmed it) and the
    /// engaged container's environment and mounts from the first of them.
    static func message(intercept: EngagementState.Intercept, state: EngagementState) -> Telepresence_Manager_InterceptInfo {
        let carriers = state.carriers(of: intercept.id)
        let container = carriers.lazy.compactMap { $0.containers.first { $0.name == intercept.spec.containerName } }.first
        return .with {
            $0.spec = intercept.spec
            $0.id = intercept.id
            $0.clientSessionID = intercept.clientSessionID
            switch intercept.disposition {
            case .waiting: $0.disposition = .waiting
            case .active:
                $0.disposition = .active
                // The latest note of an agent (a wiretap's cut notice).
                $0.message = intercept.note
            case .agentError(let message):
                $0.disposition = .agentError
                $0.message = message
            }
            $0.agents = carriers.map { agent in
                .with {
                    $0.podName = agent.podName
                    $0.namespace = agent.namespace
                    $0.podIp = agent.podIP
                    $0.tunnelPort = Int32(agent.tunnelPort)
                }
            }
            $0.environment = container?.environment ?? [:]
            $0.mounts = container?.mounts ?? []
            $0.createdMs = Int64(intercept.created.timeIntervalSince1970 * 1000)
            $0.description_p = EngagementRules.description(intercept.spec)
        }
    }
}
