import Foundation
import RPC

// The user daemon's messages (connector.proto), written by its service and read by the CLI.

extension ConnectRequest {
    public init(wire: Telepresence_Connector_ConnectRequest) throws(WireError) {
        let network = try NetworkRequest(wire: .with {
            $0.alsoProxy = wire.alsoProxy
            $0.neverProxy = wire.neverProxy
            $0.allowConflicting = wire.allowConflictingSubnets
        })
        self.init(
            kubeFlags: wire.kubeFlags, namespace: wire.namespace.isEmpty ? nil : wire.namespace,
            managerNamespace: wire.managerNamespace.isEmpty ? nil : wire.managerNamespace,
            mappedNamespaces: wire.mappedNamespaces, environment: wire.environment,
            workingDirectory: wire.workingDirectory.isEmpty ? nil : wire.workingDirectory,
            alsoProxy: network.alsoProxy, neverProxy: network.neverProxy, allowConflictingSubnets: network.allowConflicting)
    }

    public var wire: Telepresence_Connector_ConnectRequest {
        .with {
            $0.kubeFlags = kubeFlags
            $0.namespace = namespace ?? ""
            $0.managerNamespace = managerNamespace ?? ""
            $0.mappedNamespaces = mappedNamespaces
            $0.environment = environment
            $0.workingDirectory = workingDirectory ?? ""
            $0.alsoProxy = alsoProxy.map(\.description)
            $0.neverProxy = neverProxy.map(\.description)
            $0.allowConflictingSubnets = allowConflictingSubnets.map(\.description)
        }
    }
}

extension ConnectionInfo {
    public init(wire: Telepresence_Connector_ConnectInfo) {
        self.init(
            clusterServer: wire.clusterServer, clusterContext: wire.clusterContext, namespace: wire.namespace,
            managerNamespace: wire.managerNamespace, mappedNamespaces: wire.mappedNamespaces,
            sessionID: wire.sessionInfo.sessionID, clusterID: wire.sessionInfo.clusterID,
            managerVersion: ComponentVersion(name: wire.managerVersion.name, version: wire.managerVersion.version),
            clusterInfo: ClusterInfo(wire: wire.clusterInfo),
            sessionState: SessionState(rawValue: wire.sessionState) ?? .connected,
            connectDuration: .milliseconds(wire.connectDurationMs), managerLink: wire.managerPod,
            reconnects: Int(wire.reconnects), network: NetworkStatus(wire: wire.network),
            intercepts: wire.intercepts.map(Intercept.init(wire:)), notes: wire.notes)
    }

    public var wire: Telepresence_Connector_ConnectInfo {
        .with {
            $0.error = .unspecified
            $0.clusterServer = clusterServer
            $0.clusterContext = clusterContext
            $0.namespace = namespace
            $0.managerNamespace = managerNamespace
            $0.mappedNamespaces = mappedNamespaces
            $0.sessionInfo = .with {
                $0.sessionID = sessionID
                $0.clusterID = clusterID
            }
            $0.managerVersion = .with {
                $0.name = managerVersion.name
                $0.version = managerVersion.version
            }
            $0.clusterInfo = clusterInfo.wire
            $0.sessionState = sessionState.rawValue
            let (seconds, attoseconds) = connectDuration.components
            $0.connectDurationMs = seconds * 1000 + attoseconds / 1_000_000_000_000_000
            $0.managerPod = managerLink
            $0.reconnects = Int32(reconnects)
            $0.network = network.wire
            $0.intercepts = intercepts.map(\.wire)
            $0.notes = notes
        }
    }
}

extension ConnectOutcome {
    public init(wire: Telepresence_Connector_ConnectInfo) {
        switch wire.error {
        case .unspecified: self = .connected(ConnectionInfo(wire: wire))
        case .alreadyConnected: self = .alreadyConnected(ConnectionInfo(wire: wire))
        default: self = .failed(ConnectFailure(ConnectFailure.Kind(wire: wire.error), wire.errorText))
        }
    }

    public var wire: Telepresence_Connector_ConnectInfo {
        switch self {
        case .connected(let info):
            return info.wire
        case .alreadyConnected(let info):
            var message = info.wire
            message.error = .alreadyConnected
            return message
        case .failed(let failure):
            return .with {
                $0.error = failure.kind.wire
                $0.errorText = failure.description
            }
        }
    }
}

extension ConnectFailure.Kind {
    init(wire: Telepresence_Connector_ConnectInfo.ErrType) {
        self = switch wire {
        case .mustRestart: .mustRestart
        case .clusterConfig: .clusterConfig
        case .clusterFailed: .clusterFailed
        case .managerNotInstalled: .managerNotInstalled
        case .daemonFailed: .daemonFailed
        default: .trafficManagerFailed
        }
    }

    var wire: Telepresence_Connector_ConnectInfo.ErrType {
        switch self {
        case .mustRestart: .mustRestart
        case .clusterConfig: .clusterConfig
        case .clusterFailed: .clusterFailed
        case .managerNotInstalled: .managerNotInstalled
        case .trafficManagerFailed: .trafficManagerFailed
        case .daemonFailed: .daemonFailed
        }
    }
}

/// Status: the connection, or nil (`DISCONNECTED`) when there is none.
public enum ConnectionStatusWire {
    public static func read(_ wire: Telepresence_Connector_ConnectInfo) -> ConnectionInfo? {
        switch wire.error {
        case .unspecified, .alreadyConnected: ConnectionInfo(wire: wire)
        default: nil
        }
    }

    public static func write(_ connection: ConnectionInfo?) -> Telepresence_Connector_ConnectInfo {
        connection?.wire ?? .with {
            $0.error = .disconnected
            $0.errorText = "not connected; run 'telepresence connect'"
        }
    }
}

extension DaemonVersion {
    public init(wire: Telepresence_Connector_VersionInfo) {
        self.init(name: wire.name, version: wire.version, executable: wire.executable, pid: wire.pid)
    }

    public var connectorWire: Telepresence_Connector_VersionInfo {
        .with {
            $0.name = name
            $0.version = version
            $0.executable = executable
            $0.pid = pid
        }
    }
}

extension WorkloadListing {
    public init(wire: Telepresence_Connector_WorkloadInfoSnapshot) {
        self.init(namespace: wire.namespace, workloads: wire.workloads.map(Workload.init(wire:)))
    }

    public var wire: Telepresence_Connector_WorkloadInfoSnapshot {
        .with {
            $0.namespace = namespace
            $0.workloads = workloads.map(\.wire)
        }
    }
}
