/// A Deployment (`apps/v1`): keeps `replicas` Pods of a template running and rolls them through
/// ReplicaSets when the template changes.
public struct Deployment: KubeObject {
    public static let apiVersion = "apps/v1"
    public static let kind = "Deployment"
    public static let plural = "deployments"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: DeploymentSpec?
    public var status: DeploymentStatus?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), spec: DeploymentSpec? = nil, status: DeploymentStatus? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The desired state of a Deployment.
public struct DeploymentSpec: Codable, Sendable, Hashable {
    /// 1 when `nil`.
    public var replicas: Int?
    /// Must match the template's labels; immutable.
    public var selector: LabelSelector
    public var template: PodTemplateSpec
    public var strategy: DeploymentStrategy?
    public var minReadySeconds: Int?
    public var revisionHistoryLimit: Int?
    public var paused: Bool?
    public var progressDeadlineSeconds: Int?

    public init(
        replicas: Int? = nil, selector: LabelSelector, template: PodTemplateSpec,
        strategy: DeploymentStrategy? = nil, minReadySeconds: Int? = nil, revisionHistoryLimit: Int? = nil,
        paused: Bool? = nil, progressDeadlineSeconds: Int? = nil
    ) {
        self.replicas = replicas
        self.selector = selector
        self.template = template
        self.strategy = strategy
        self.minReadySeconds = minReadySeconds
        self.revisionHistoryLimit = revisionHistoryLimit
        self.paused = paused
        self.progressDeadlineSeconds = progressDeadlineSeconds
    }
}

/// How a Deployment replaces old Pods.
public struct DeploymentStrategy: Codable, Sendable, Hashable {
    /// `RollingUpdate` (the default) or `Recreate`.
    public var type: String?
    public var rollingUpdate: RollingUpdateDeployment?

    public init(type: String? = nil, rollingUpdate: RollingUpdateDeployment? = nil) {
        self.type = type
        self.rollingUpdate = rollingUpdate
    }
}

/// The pace of a rolling update, as counts or percentages (`1`, `"25%"`).
public struct RollingUpdateDeployment: Codable, Sendable, Hashable {
    public var maxUnavailable: IntOrString?
    public var maxSurge: IntOrString?

    public init(maxUnavailable: IntOrString? = nil, maxSurge: IntOrString? = nil) {
        self.maxUnavailable = maxUnavailable
        self.maxSurge = maxSurge
    }
}

/// The observed state of a Deployment.
public struct DeploymentStatus: Codable, Sendable, Hashable {
    /// The `metadata.generation` this status describes.
    public var observedGeneration: Int?
    public var replicas: Int?
    public var updatedReplicas: Int?
    public var readyReplicas: Int?
    public var availableReplicas: Int?
    public var unavailableReplicas: Int?
    public var terminatingReplicas: Int?
    /// E.g. `Available`, `Progressing`.
    public var conditions: [Condition]?
    public var collisionCount: Int?

    public init(
        observedGeneration: Int? = nil, replicas: Int? = nil, updatedReplicas: Int? = nil,
        readyReplicas: Int? = nil, availableReplicas: Int? = nil, unavailableReplicas: Int? = nil,
        terminatingReplicas: Int? = nil, conditions: [Condition]? = nil, collisionCount: Int? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.replicas = replicas
        self.updatedReplicas = updatedReplicas
        self.readyReplicas = readyReplicas
        self.availableReplicas = availableReplicas
        self.unavailableReplicas = unavailableReplicas
        self.terminatingReplicas = terminatingReplicas
        self.conditions = conditions
        self.collisionCount = collisionCount
    }
}
