/// A ReplicaSet (`apps/v1`): keeps `replicas` Pods of one template revision; Deployments own them.
public struct ReplicaSet: KubeObject {
    public static let apiVersion = "apps/v1"
    public static let kind = "ReplicaSet"
    public static let plural = "replicasets"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: ReplicaSetSpec?
    public var status: ReplicaSetStatus?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), spec: ReplicaSetSpec? = nil, status: ReplicaSetStatus? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The desired state of a ReplicaSet.
public struct ReplicaSetSpec: Codable, Sendable, Hashable {
    public var replicas: Int?
    public var minReadySeconds: Int?
    public var selector: LabelSelector
    public var template: PodTemplateSpec?

    public init(
        replicas: Int? = nil, minReadySeconds: Int? = nil, selector: LabelSelector,
        template: PodTemplateSpec? = nil
    ) {
        self.replicas = replicas
        self.minReadySeconds = minReadySeconds
        self.selector = selector
        self.template = template
    }
}

/// The observed state of a ReplicaSet.
public struct ReplicaSetStatus: Codable, Sendable, Hashable {
    public var replicas: Int?
    public var fullyLabeledReplicas: Int?
    public var readyReplicas: Int?
    public var availableReplicas: Int?
    public var terminatingReplicas: Int?
    public var observedGeneration: Int?
    public var conditions: [Condition]?

    public init(
        replicas: Int? = nil, fullyLabeledReplicas: Int? = nil, readyReplicas: Int? = nil,
        availableReplicas: Int? = nil, terminatingReplicas: Int? = nil, observedGeneration: Int? = nil,
        conditions: [Condition]? = nil
    ) {
        self.replicas = replicas
        self.fullyLabeledReplicas = fullyLabeledReplicas
        self.readyReplicas = readyReplicas
        self.availableReplicas = availableReplicas
        self.terminatingReplicas = terminatingReplicas
        self.observedGeneration = observedGeneration
        self.conditions = conditions
    }
}
