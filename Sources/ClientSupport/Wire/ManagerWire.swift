import Foundation
import NetworkAddress
import RPC

// The traffic-manager's messages as the client reads them (manager.proto).

extension ClusterInfo {
    /// Subnets or addresses the manager sent malformed are left out (and the manager logs what
    /// it found); a client cannot do better with them.
    public init(wire: Telepresence_Manager_ClusterInfo) {
        self.init(
            serviceSubnet: wire.hasServiceSubnet ? wire.serviceSubnet.subnet : nil,
            podSubnets: wire.podSubnets.compactMap(\.subnet),
            podCIDRStrategy: wire.podCidrStrategy,
            clusterDomain: wire.clusterDomain,
            dnsIP: IPAddress(bytes: wire.kubeDnsIp),
            managedNamespaces: wire.managedNamespaces)
    }

    public var wire: Telepresence_Manager_ClusterInfo {
        .with {
            if let serviceSubnet { $0.serviceSubnet = Telepresence_Manager_IPNet(serviceSubnet) }
            $0.podSubnets = podSubnets.map(Telepresence_Manager_IPNet.init)
            $0.podCidrStrategy = podCIDRStrategy
            $0.clusterDomain = clusterDomain
            if let dnsIP { $0.kubeDnsIp = Data(dnsIP.bytes) }
            $0.managedNamespaces = managedNamespaces
        }
    }
}

extension Workload {
    public init(wire: Telepresence_Manager_WorkloadInfo) {
        let health: Health = switch wire.state {
        case .available: .available
        case .progressing: .progressing
        case .failure: .failing
        default: .unknown
        }
        let agent: AgentState = switch wire.agentState {
        case .installed: .installed
        case .engaged: .engaged
        default: .none
        }
        self.init(
            name: wire.name, namespace: wire.namespace, kind: wire.kind, health: health, agent: agent,
            readyReplicas: Int(wire.readyReplicas), replicas: Int(wire.replicas),
            notEngageableReason: wire.notEngageableReason, intercepts: wire.intercepts.map(Intercept.init(wire:)))
    }

    public var wire: Telepresence_Manager_WorkloadInfo {
        .with {
            $0.name = name
            $0.namespace = namespace
            $0.kind = kind
            $0.state = switch health {
            case .available: .available
            case .progressing: .progressing
            case .failing: .failure
            case .unknown: .unknownUnspecified
            }
            $0.agentState = switch agent {
            case .none: .noAgentUnspecified
            case .installed: .installed
            case .engaged: .engaged
            }
            $0.readyReplicas = Int32(readyReplicas)
            $0.replicas = Int32(replicas)
            $0.notEngageableReason = notEngageableReason
            $0.intercepts = intercepts.map(\.wire)
        }
    }
}
