import GRPCCore
import RPC
import SwiftProtobuf

// Engagements (agents, intercepts, uninstall): the protocol is agreed, the manager's side is
// being built (issue 13); until then each call says so.
extension ManagerService {
    func arriveAsAgent(request: Telepresence_Manager_AgentInfo, context: ServerContext) async throws -> Telepresence_Manager_SessionInfo {
        throw RPCError(code: .unimplemented, message: "this traffic-manager does not take agents yet")
    }

    func createIntercept(request: Telepresence_Manager_CreateInterceptRequest, context: ServerContext) async throws -> Telepresence_Manager_InterceptInfo {
        throw RPCError(code: .unimplemented, message: "this traffic-manager cannot intercept yet")
    }

    func removeIntercept(request: Telepresence_Manager_RemoveInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw RPCError(code: .unimplemented, message: "this traffic-manager cannot intercept yet")
    }

    func watchIntercepts(
        request: Telepresence_Manager_SessionInfo, response: RPCWriter<Telepresence_Manager_InterceptInfoSnapshot>, context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "this traffic-manager cannot intercept yet")
    }

    func reviewIntercept(request: Telepresence_Manager_ReviewInterceptRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw RPCError(code: .unimplemented, message: "this traffic-manager cannot intercept yet")
    }

    func uninstallAgents(request: Telepresence_Manager_UninstallAgentsRequest, context: ServerContext) async throws -> Telepresence_Manager_UninstallAgentsResult {
        throw RPCError(code: .unimplemented, message: "this traffic-manager has no agents to uninstall yet")
    }
}
