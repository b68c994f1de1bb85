import KubeClient
import RPC

/// What a client needs to know of an engageable workload: kind, name, whether it is healthy,
/// and whether the traffic-agent is already in its pods. Made from the API's objects by pure
/// functions, so they are tested without a cluster.
public struct WorkloadSummary: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case deployment = "Deployment"
        case replicaSet = "ReplicaSet"
        case statefulSet = "StatefulSet"
        /// A pod no controller owns: listed so that `list` can say why it cannot be engaged.
        case pod = "Pod"
    }

    public enum State: Sendable, Hashable {
        case available, progressing, failure, unknown
    }

    public enum AgentState: Sendable, Hashable {
        /// No agent config, or pods without the agent; `installed`: the ConfigMap has its entry
        /// and its pods run the agent; `engaged`: and someone intercepts it.
        case none, installed, engaged
    }

    public var kind: Kind
    public var name: String
    public var namespace: String
    public var uid: String
    public var state: State
    public var agentState: AgentState
    public var readyReplicas: Int
    public var replicas: Int
    /// Why it cannot be engaged (no Service selects it, ...); empty when it can.
    public var notEngageableReason: String = ""
    /// The intercepts on it now (any client's): spec, id, client, disposition, since when.
    public var intercepts: [Telepresence_Manager_InterceptInfo] = []
    /// The labels of its pods (what Services select), its app containers' ports and its
    /// injection annotation: what decides whether it can be engaged.
    public var podLabels: [String: String] = [:]
    public var containerPorts: [ContainerPort] = []
    public var injectAnnotation: String?

    /// The name of the container the webhook adds to engaged pods.
    public static let agentContainerName = "traffic-agent"

    /// A key that tells the same workload apart across kinds.
    public var key: String { "\(kind.rawValue)/\(name)" }

    public init(deployment: Deployment) {
        let replicas = deployment.spec?.replicas ?? 1
        let ready = deployment.status?.readyReplicas ?? 0
        let conditions = deployment.status?.conditions ?? []
        var state: State = ready >= replicas ? .available : .progressing
        if conditions.contains(where: { $0.type == "ReplicaFailure" && $0.status == "True" })
            || conditions.contains(where: { $0.type == "Progressing" && $0.status == "False" }) {
            state = .failure
        }
        self.init(
            kind: .deployment, metadata: deployment.metadata, template: deployment.spec?.template,
            state: state, ready: ready, replicas: replicas)
    }

    public init(replicaSet: ReplicaSet) {
        let replicas = replicaSet.spec?.replicas ?? 1
        let ready = replicaSet.status?.readyReplicas ?? 0
        self.init(
            kind: .replicaSet, metadata: replicaSet.metadata, template: replicaSet.spec?.template,
            state: ready >= replicas ? .available : .progressing, ready: ready, replicas: replicas)
    }

    public init(statefulSet: StatefulSet) {
        let replicas = statefulSet.spec?.replicas ?? 1
        let ready = statefulSet.status?.readyReplicas ?? 0
        self.init(
            kind: .statefulSet, metadata: statefulSet.metadata, template: statefulSet.spec?.template,
            state: ready >= replicas ? .available : .progressing, ready: ready, replicas: replicas)
    }

    /// A bare pod (see `isBare`): never engageable, since nothing would re-create it with the
    /// traffic-agent.
    public init(barePod pod: Pod) {
        let running = pod.status?.phase == "Running"
        self.init(kind: .pod, metadata: pod.metadata, template: nil, state: running ? .available : .progressing,
                  ready: running ? 1 : 0, replicas: 1)
        let containers = pod.spec?.containers ?? []
        self.podLabels = pod.metadata.labels ?? [:]
        self.containerPorts = containers.flatMap { $0.ports ?? [] }
        self.injectAnnotation = pod.metadata.annotations?["telepresence.io/inject-traffic-agent"]
    }

    /// A pod that no Deployment, ReplicaSet, StatefulSet (or anything else) owns.
    public static func isBare(_ pod: Pod) -> Bool {
        (pod.metadata.ownerReferences ?? []).isEmpty
    }

    private init(kind: Kind, metadata: ObjectMeta, template: PodTemplateSpec?, state: State, ready: Int, replicas: Int) {
        self.kind = kind
        self.name = metadata.name ?? ""
        self.namespace = metadata.namespace ?? ""
        self.uid = metadata.uid ?? ""
        self.state = state
        let containers = template?.spec?.containers ?? []
        self.agentState = containers.contains { $0.name == Self.agentContainerName } ? .installed : .none
        self.readyReplicas = ready
        self.replicas = replicas
        self.podLabels = template?.metadata?.labels ?? [:]
        self.containerPorts = containers.filter { $0.name != Self.agentContainerName }.flatMap { $0.ports ?? [] }
        self.injectAnnotation = template?.metadata?.annotations?["telepresence.io/inject-traffic-agent"]
    }

    /// Whether a ReplicaSet is managed by a Deployment, in which case the Deployment is what a
    /// user engages and the ReplicaSet is not listed (as Telepresence does).
    public static func isOwnedByDeployment(_ metadata: ObjectMeta) -> Bool {
        (metadata.ownerReferences ?? []).contains { $0.kind == "Deployment" }
    }
}
