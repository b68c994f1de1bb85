import ClientSupport
import GRPCCore
import RPC
import SwiftProtobuf

// The engagement calls of the manager's API (manager.proto), in the domain's terms.
extension ManagerSession {
    /// How long CreateIntercept may take: the manager waits up to `timeouts.agentArrival` (30 s)
    /// for the workload's pods to roll and their agents to arrive, and says why when they do not.
    static let createInterceptTimeout: Duration = .seconds(90)

    /// Asks for an intercept; returns what the manager answered (ACTIVE, or a disposition with
    /// its message). A refusal comes as the manager's `RPCError`.
    func createIntercept(_ spec: Telepresence_Manager_InterceptSpec) async throws -> Intercept {
        let session = current.session
        return try await withDeadline(Self.createInterceptTimeout) {
            Intercept(wire: try await self.manager.createIntercept(request: ClientRequest(message: .with {
                $0.session = session
                $0.spec = spec
            })))
        }
    }

    /// Ends one of this client's intercepts.
    func removeIntercept(name: String) async throws {
        let session = current.session
        try await withDeadline(Self.callTimeout) {
            _ = try await self.manager.removeIntercept(request: ClientRequest(message: .with {
                $0.session = session
                $0.name = name
            }))
        }
    }

    /// Calls `onSnapshot` with this client's intercepts, whole, on each change, until the
    /// stream ends (the link broke or the manager went away).
    func watchIntercepts(_ onSnapshot: @escaping @Sendable ([Intercept]) async -> Void) async throws {
        let session = current.session
        try await manager.watchIntercepts(request: ClientRequest(message: session)) { response in
            for try await snapshot in response.messages {
                await onSnapshot(snapshot.intercepts.map(Intercept.init(wire:)))
            }
        }
    }

    /// Removes agents; returns the workloads whose agents were removed.
    func uninstallAgents(namespace: String, workloads: [String], all: Bool) async throws -> [String] {
        let session = current.session
        return try await withDeadline(.seconds(60)) {
            try await self.manager.uninstallAgents(request: ClientRequest(message: .with {
                $0.session = session
                $0.namespace = namespace
                $0.workloads = workloads
                $0.allAgents = all
            })).removed
        }
    }
}
