import ClientSupport
import GRPCCore
import RPC
import SwiftProtobuf

// Engagements: intercept, leave, the handler's pid, uninstall.
extension ConnectorService {
    func createIntercept(request: Telepresence_Connector_CreateInterceptRequest, context: ServerContext) async throws -> Telepresence_Connector_InterceptResult {
        let intercept = InterceptRequest(wire: request)
        guard request.spec.engagementKind != nil else {
            return InterceptOutcome.failed(.badArgs, "engagement kind \(request.spec.kind) is unknown; use intercept, wiretap, replace or ingest").wire
        }
        guard !intercept.name.isEmpty else {
            return InterceptOutcome.failed(.badArgs, "an engagement needs a name: 'telepresence \(intercept.kind.rawValue) WORKLOAD'").wire
        }
        return await connector.createIntercept(intercept).wire
    }

    func removeIntercept(request: Telepresence_Connector_RemoveInterceptRequest, context: ServerContext) async throws -> Telepresence_Connector_InterceptResult {
        await connector.removeIntercept(name: request.name, container: request.containerName).wire
    }

    func addInterceptor(request: Telepresence_Connector_Interceptor, context: ServerContext) async throws -> Google_Protobuf_Empty {
        guard await connector.addInterceptor(interceptID: request.interceptID, pid: request.pid) else {
            throw RPCError(code: .notFound, message: "there is no intercept \(request.interceptID) to run a handler for")
        }
        return Google_Protobuf_Empty()
    }

    func uninstall(request: Telepresence_Connector_UninstallRequest, context: ServerContext) async throws -> Telepresence_Connector_UninstallResult {
        await connector.uninstall(
            workloads: request.workloads, allAgents: request.allAgents,
            namespace: request.namespace.isEmpty ? nil : request.namespace).wire
    }
}
