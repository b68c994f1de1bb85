import GRPCCore
import RPC
import SwiftProtobuf

// Engagements: the protocol is agreed, the daemon's side is being built (issue 13); until then
// each call says so.
extension ConnectorService {
    func createIntercept(request: Telepresence_Connector_CreateInterceptRequest, context: ServerContext) async throws -> Telepresence_Connector_InterceptResult {
        throw RPCError(code: .unimplemented, message: "this daemon cannot intercept yet")
    }

    func removeIntercept(request: Telepresence_Connector_RemoveInterceptRequest, context: ServerContext) async throws -> Telepresence_Connector_InterceptResult {
        throw RPCError(code: .unimplemented, message: "this daemon cannot intercept yet")
    }

    func addInterceptor(request: Telepresence_Connector_Interceptor, context: ServerContext) async throws -> Google_Protobuf_Empty {
        throw RPCError(code: .unimplemented, message: "this daemon cannot intercept yet")
    }

    func uninstall(request: Telepresence_Connector_UninstallRequest, context: ServerContext) async throws -> Telepresence_Connector_UninstallResult {
        throw RPCError(code: .unimplemented, message: "this daemon cannot uninstall agents yet")
    }
}
