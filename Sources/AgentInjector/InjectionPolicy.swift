import AgentConfig
import KubeClient

/// The workload that owns a pod, as the injector and the rollout name it.
public struct WorkloadReference: Sendable, Hashable, CustomStringConvertible {
    /// Deployment, ReplicaSet or StatefulSet.
    public var kind: String
    public var name: String

    public init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    public var description: String { "\(kind.lowercased()) \(name)" }
}

/// What the injector does with a pod it is asked about.
public enum InjectionDecision: Sendable, Hashable {
    /// Leave the pod as it is, and why (for the log).
    case skip(String)
    /// Inject with the workload's stored config.
    case inject(WorkloadReference)
    /// `inject-traffic-agent: enabled` and no stored config: generate it, store it, inject.
    case generateAndInject(WorkloadReference)
}

/// Telepresence's injection decision (`mutator/agent_injector.go`), as a function of values.
public enum InjectionPolicy {
    /// The pod's controlling owner (the ReplicaSet of a Deployment's pod, the StatefulSet...).
    public static func controller(of pod: Pod) -> OwnerReference? {
        let owners = pod.metadata.ownerReferences ?? []
        return owners.first { $0.controller == true } ?? owners.first
    }

    /// The workload a pod belongs to: its StatefulSet, or its ReplicaSet's Deployment (`replicaSetOwner`,
    /// the ReplicaSet's controlling owner, looked up by the caller) or else the ReplicaSet itself.
    /// `nil` for a bare pod or an owner kind we do not engage (Job, DaemonSet...).
    public static func workload(of pod: Pod, replicaSetOwner: OwnerReference?) -> WorkloadReference? {
        guard let owner = controller(of: pod) else { return nil }
        switch owner.kind {
        case "StatefulSet":
            return WorkloadReference(kind: "StatefulSet", name: owner.name)
        case "ReplicaSet":
            if let parent = replicaSetOwner {
                return parent.kind == "Deployment" ? WorkloadReference(kind: "Deployment", name: parent.name) : nil
            }
            return WorkloadReference(kind: "ReplicaSet", name: owner.name)
        default:
            return nil
        }
    }

    /// - `telepresence.io/inject-traffic-agent: disabled` (or `false`) → never;
    /// - `enabled` → inject, generating the config when none is stored;
    /// - absent → inject only when the workload has a stored config;
    /// a bare pod and a pod that already has a `traffic-agent` container are left alone.
    public static func decide(pod: Pod, workload: WorkloadReference?, hasStoredConfig: Bool) -> InjectionDecision {
        if pod.spec?.containers.contains(where: { $0.name == AgentNames.container }) ?? false {
            return .skip("the pod already has a \(AgentNames.container) container")
        }
        let annotation = pod.metadata.annotations?[AgentNames.injectAnnotation]?.lowercased() ?? ""
        if annotation == "disabled" || annotation == "false" {
            return .skip("the pod's annotation \(AgentNames.injectAnnotation) is \(annotation)")
        }
        guard let workload else {
            return .skip("the pod has no Deployment, ReplicaSet or StatefulSet owner")
        }
        if hasStoredConfig { return .inject(workload) }
        if annotation == "enabled" || annotation == "true" { return .generateAndInject(workload) }
        return .skip("\(workload) has no agent config")
    }
}
