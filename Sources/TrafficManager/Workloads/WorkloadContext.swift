import AgentConfig
import KubeClient
import RPC

/// What, beside the workload object itself, decides how `list` shows a workload: the Services
/// of its namespace, the agent configs in ConfigMap `telepresence-agents`, the pods that run
/// the agent, and the intercepts on it. Pure: the watcher keeps it current.
public struct WorkloadContext: Sendable {
    public var services: [Service] = []
    /// The names of the workloads with an entry in `telepresence-agents`.
    public var configEntries: Set<String> = []
    /// Pods that run the traffic-agent container.
    public var podsWithAgent: [Pod] = []
    /// The intercepts by workload name.
    public var intercepts: [String: [Telepresence_Manager_InterceptInfo]] = [:]

    public init() {}

    /// The summary with its agent state, its reason not to be engageable, and its intercepts.
    public func enrich(_ base: WorkloadSummary) -> WorkloadSummary {
        var workload = base
        workload.intercepts = intercepts[base.name] ?? []
        if base.agentState == .none, configEntries.contains(base.name), podsWithAgent.contains(where: { runs(base, $0) }) {
            workload.agentState = .installed
        }
        if workload.agentState == .installed, !workload.intercepts.isEmpty { workload.agentState = .engaged }
        workload.notEngageableReason = reason(base)
        return workload
    }

    /// Whether a pod that runs the agent belongs to the workload: the injector's label, else
    /// its owner (the workload, or a ReplicaSet of a Deployment named `<workload>-<hash>`).
    func runs(_ workload: WorkloadSummary, _ pod: Pod) -> Bool {
        if let label = pod.metadata.labels?[AgentNames.workloadNameLabel] { return label == workload.name }
        return (pod.metadata.ownerReferences ?? []).contains { owner in
            owner.name == workload.name || (workload.kind == .deployment && owner.kind == "ReplicaSet" && owner.name.hasPrefix(workload.name + "-")
                && !owner.name.dropFirst(workload.name.count + 1).contains("-"))
        }
    }

    func reason(_ workload: WorkloadSummary) -> String {
        if workload.kind == .pod {
            return "a bare pod cannot be engaged: no Deployment, ReplicaSet or StatefulSet owns it, so nothing would re-create it with the traffic-agent"
        }
        if workload.injectAnnotation == "disabled" {
            return "the annotation \(AgentNames.injectAnnotation)=disabled forbids injecting the traffic-agent"
        }
        let selecting = services.filter { service in
            guard let selector = service.spec?.selector, !selector.isEmpty else { return false }
            return selector.allSatisfy { workload.podLabels[$0.key] == $0.value }
        }
        if selecting.isEmpty { return "no Service selects it" }
        let mapped = selecting.contains { service in
            (service.spec?.ports ?? []).contains { port in
                switch port.targetPort ?? .int(port.port) {
                case .int: true
                case .string(let name): workload.containerPorts.contains { $0.name == name }
                }
            }
        }
        return mapped ? "" : "the ports of the Services that select it map to no container port"
    }
}
