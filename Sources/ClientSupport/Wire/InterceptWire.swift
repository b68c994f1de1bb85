import Foundation
import HTTPRouting
import RPC

// Intercepts as manager.proto's InterceptInfo/InterceptSpec (carried as is by connector.proto)
// and connector.proto's InterceptResult.

extension Intercept {
    public init(wire: Telepresence_Manager_InterceptInfo) {
        let spec = wire.spec
        self.init(
            id: wire.id, name: spec.name, kind: spec.engagementKind ?? .intercept, filter: spec.filter,
            replacedPorts: spec.replacedPorts.map {
                ReplacedPort(name: $0.containerPortName, containerPort: Int($0.containerPort), transport: $0.`protocol`.isEmpty ? "TCP" : $0.`protocol`, targetPort: Int($0.targetPort))
            },
            summary: wire.description_p, workload: spec.agent, workloadKind: spec.workloadKind, namespace: spec.namespace,
            client: spec.client, clientSessionID: wire.clientSessionID, targetHost: spec.targetHost,
            targetPort: Int(spec.targetPort), portIdentifier: spec.portIdentifier, serviceName: spec.serviceName,
            servicePortName: spec.servicePortName, servicePort: Int(spec.servicePort), transport: spec.`protocol`,
            containerName: spec.containerName, containerPort: Int(spec.containerPort), toPod: spec.localPorts,
            disposition: Self.name(of: wire.disposition), message: wire.message,
            agents: wire.agents.map {
                AgentPod(podName: $0.podName, namespace: $0.namespace, podIP: $0.podIp, tunnelPort: Int($0.tunnelPort))
            },
            environment: wire.environment, mounts: wire.mounts, createdMilliseconds: wire.createdMs)
    }

    public var wire: Telepresence_Manager_InterceptInfo {
        .with {
            $0.spec = .with {
                $0.name = name
                $0.kind = kind.rawValue
                if let filter { $0.httpFilter = filter.proto }
                $0.replacedPorts = replacedPorts.map { port in
                    .with {
                        $0.containerPortName = port.name
                        $0.containerPort = Int32(port.containerPort)
                        $0.`protocol` = port.transport
                        $0.agentPort = Int32(port.containerPort)
                        $0.targetPort = Int32(port.targetPort)
                    }
                }
                $0.client = client
                $0.agent = workload
                $0.workloadKind = workloadKind
                $0.namespace = namespace
                $0.mechanism = filter == nil ? "tcp" : "http"
                $0.targetHost = targetHost
                $0.targetPort = Int32(targetPort)
                $0.portIdentifier = portIdentifier
                $0.serviceName = serviceName
                $0.servicePortName = servicePortName
                $0.servicePort = Int32(servicePort)
                $0.`protocol` = transport
                $0.containerName = containerName
                $0.containerPort = Int32(containerPort)
                $0.localPorts = toPod
            }
            $0.id = id
            $0.clientSessionID = clientSessionID
            $0.disposition = Self.disposition(named: disposition)
            $0.message = message
            $0.agents = agents.map { agent in
                .with {
                    $0.podName = agent.podName
                    $0.namespace = agent.namespace
                    $0.podIp = agent.podIP
                    $0.tunnelPort = Int32(agent.tunnelPort)
                }
            }
            $0.environment = environment
            $0.mounts = mounts
            $0.createdMs = createdMilliseconds
            $0.description_p = summary
        }
    }

    /// The disposition's proto name ("ACTIVE", "AGENT_ERROR").
    public static func name(of disposition: Telepresence_Manager_InterceptDispositionType) -> String {
        switch disposition {
        case .active: "ACTIVE"
        case .waiting: "WAITING"
        case .noClient: "NO_CLIENT"
        case .noAgent: "NO_AGENT"
        case .noMechanism: "NO_MECHANISM"
        case .noPorts: "NO_PORTS"
        case .agentError: "AGENT_ERROR"
        case .badArgs: "BAD_ARGS"
        case .removed: "REMOVED"
        default: "UNSPECIFIED"
        }
    }

    public static func disposition(named name: String) -> Telepresence_Manager_InterceptDispositionType {
        switch name {
        case "ACTIVE": .active
        case "WAITING": .waiting
        case "NO_CLIENT": .noClient
        case "NO_AGENT": .noAgent
        case "NO_MECHANISM": .noMechanism
        case "NO_PORTS": .noPorts
        case "AGENT_ERROR": .agentError
        case "BAD_ARGS": .badArgs
        case "REMOVED": .removed
        default: .unspecified
        }
    }
}

extension InterceptRequest {
    public init(wire: Telepresence_Connector_CreateInterceptRequest) {
        let spec = wire.spec
        self.init(
            name: spec.name, kind: spec.engagementKind ?? .intercept, filter: spec.filter, workload: spec.agent, namespace: spec.namespace, portIdentifier: spec.portIdentifier,
            serviceName: spec.serviceName, containerName: spec.containerName, targetHost: spec.targetHost,
            targetPort: Int(spec.targetPort), toPod: spec.localPorts)
    }

    public var wire: Telepresence_Connector_CreateInterceptRequest {
        .with { $0.spec = spec }
    }

    /// The manager's spec for this request (what the manager resolves is left empty).
    public var spec: Telepresence_Manager_InterceptSpec {
        .with {
            $0.name = name
            $0.kind = kind.rawValue
            if let filter { $0.httpFilter = filter.proto }
            $0.agent = workload.isEmpty ? name : workload
            $0.namespace = namespace
            $0.mechanism = filter == nil ? "tcp" : "http"
            $0.targetHost = targetHost
            $0.targetPort = Int32(targetPort)
            $0.portIdentifier = portIdentifier
            $0.serviceName = serviceName
            $0.containerName = containerName
            $0.localPorts = toPod
        }
    }
}

extension InterceptOutcome {
    public init(wire: Telepresence_Connector_InterceptResult) {
        self.init(
            intercept: wire.hasInterceptInfo ? Intercept(wire: wire.interceptInfo) : nil, errorText: wire.errorText,
            category: Category(rawValue: wire.errorCategory), path: wire.path)
    }

    public var wire: Telepresence_Connector_InterceptResult {
        .with {
            if let intercept { $0.interceptInfo = intercept.wire }
            $0.errorText = errorText
            $0.errorCategory = category?.rawValue ?? ""
            $0.path = path
        }
    }
}

extension UninstallOutcome {
    public init(wire: Telepresence_Connector_UninstallResult) {
        self.init(removed: wire.removed, errorText: wire.errorText)
    }

    public var wire: Telepresence_Connector_UninstallResult {
        .with {
            $0.removed = removed
            $0.errorText = errorText
        }
    }
}
