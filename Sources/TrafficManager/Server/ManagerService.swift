import Diagnostics
import Foundation
import GRPCCore
import KubeClient
import Logging
import RPC
import SwiftProtobuf

/// The traffic-manager's gRPC API (manager.proto): sessions, cluster info, workloads, version,
/// log level.
struct ManagerService: Telepresence_Manager_Manager.SimpleServiceProtocol {
    let sessions: SessionKeeper
    let clusterInfo: ClusterInfoMonitor
    let workloads: WorkloadWatcher
    let settings: ManagerSettings
    let clusterID: @Sendable () async -> String
    let logLevel: LogLevelControl
    let logger: Logger
    let engagements: EngagementKeeper
    let intercepts: InterceptCoordinator

    func version(request: Google_Protobuf_Empty, context: ServerContext) async throws -> Telepresence_Manager_VersionInfo2 {
        .with {
            $0.name = "traffic-manager"
            $0.version = ProductVersion.current
        }
    }

    func arriveAsClient(request: Telepresence_Manager_ClientInfo, context: ServerContext) async throws -> Telepresence_Manager_SessionInfo {
        guard !request.name.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "a client must say its name when it arrives")
        }
        let id = sessions.arrive(SessionRegistry.ClientIdentity(
            name: request.name, installID: request.installID, namespace: request.namespace,
            mappedNamespaces: request.mappedNamespaces, version: request.version))
        let cluster = await clusterID()
        return .with {
            $0.sessionID = id
            $0.clusterID = cluster
        }
    }

    func remain(request: Telepresence_Manager_RemainRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        do {
            try sessions.remain(request.session.sessionID)
        } catch {
            throw RPCError(code: .notFound, message: error.description)
        }
        return Google_Protobuf_Empty()
    }

    func depart(request: Telepresence_Manager_SessionInfo, context: ServerContext) async throws -> Google_Protobuf_Empty {
        sessions.depart(request.sessionID)
        return Google_Protobuf_Empty()
    }

    func watchClusterInfo(
        request: Telepresence_Manager_SessionInfo, response: RPCWriter<Telepresence_Manager_ClusterInfo>, context: ServerContext
    ) async throws {
        // An empty session is allowed: a client asks for the facts in the same round trip as its
        // arrival (they are not secret from anyone who can reach this port).
        if !request.sessionID.isEmpty { try requireSession(request.sessionID) }
        for await facts in await clusterInfo.updates() {
            try await response.write(Self.message(facts))
        }
    }

    func watchWorkloads(
        request: Telepresence_Manager_WorkloadEventsRequest, response: RPCWriter<Telepresence_Manager_WorkloadEventsDelta>,
        context: ServerContext
    ) async throws {
        try requireSession(request.sessionInfo.sessionID)
        let namespace = request.namespace
        guard !namespace.isEmpty else { throw RPCError(code: .invalidArgument, message: "say which namespace's workloads to watch") }
        if !settings.managedNamespaces.isEmpty && !settings.managedNamespaces.contains(namespace) {
            throw RPCError(
                code: .permissionDenied,
                message: "namespace \(namespace) is not managed by this traffic-manager (it manages \(settings.managedNamespaces.joined(separator: ", "))); add it with 'telepresence helm upgrade --set managerRbac.namespaces={...}'")
        }
        do {
            for try await delta in workloads.watch(namespace: namespace) {
                try await response.write(.with {
                    $0.snapshot = delta.snapshot
                    $0.events = delta.changes.map(Self.message)
                })
            }
        } catch let error as KubeError {
            throw RPCError(code: error.isForbidden ? .permissionDenied : .unavailable, message: "the workloads of namespace \(namespace) cannot be read: \(error)")
        }
    }

    func setLogLevel(request: Telepresence_Manager_LogLevelRequest, context: ServerContext) async throws -> Google_Protobuf_Empty {
        guard let level = LogLevelControl.parse(request.logLevel) else {
            throw RPCError(code: .invalidArgument, message: "log level \(request.logLevel) is unknown; use error, warning, info, debug or trace")
        }
        let seconds = request.hasDuration ? request.duration.seconds : 0
        logLevel.set(level, for: seconds > 0 ? .seconds(seconds) : nil)
        logger.info("log level set to \(level)\(seconds > 0 ? " for \(seconds) s" : "")")
        return Google_Protobuf_Empty()
    }

    func requireSession(_ id: String) throws {
        guard sessions.isAlive(id) else {
            throw RPCError(code: .notFound, message: SessionRegistry.Failure.unknownSession(id).description)
        }
    }

    static func message(_ facts: ClusterFacts) -> Telepresence_Manager_ClusterInfo {
        .with {
            if let subnet = facts.serviceSubnet { $0.serviceSubnet = Telepresence_Manager_IPNet(subnet) }
            $0.podSubnets = facts.podSubnets.map(Telepresence_Manager_IPNet.init)
            $0.clusterDomain = facts.clusterDomain
            if let ip = facts.dnsIP { $0.kubeDnsIp = Data(ip.bytes) }
            if let ip = facts.managerPodIP { $0.managerPodIp = Data(ip.bytes) }
            $0.managerPodPort = Int32(facts.managerPort)
            $0.podCidrStrategy = facts.podCIDRStrategy
            $0.managedNamespaces = facts.managedNamespaces
        }
    }

    static func message(_ change: WorkloadTable.Change) -> Telepresence_Manager_WorkloadEvent {
        .with {
            $0.type = switch change.type {
            case .added: .addedUnspecified
            case .modified: .modified
            case .deleted: .deleted
            }
            $0.workload = message(change.workload)
        }
    }

    static func message(_ workload: WorkloadSummary) -> Telepresence_Manager_WorkloadInfo {
        .with {
            $0.kind = workload.kind.rawValue
            $0.name = workload.name
            $0.namespace = workload.namespace
            $0.uid = workload.uid
            $0.state = switch workload.state {
            case .available: .available
            case .progressing: .progressing
            case .failure: .failure
            case .unknown: .unknownUnspecified
            }
            $0.agentState = switch workload.agentState {
            case .none: .noAgentUnspecified
            case .installed: .installed
            case .engaged: .engaged
            }
            $0.notEngageableReason = workload.notEngageableReason
            $0.intercepts = workload.intercepts
            $0.readyReplicas = Int32(workload.readyReplicas)
            $0.replicas = Int32(workload.replicas)
        }
    }
}
