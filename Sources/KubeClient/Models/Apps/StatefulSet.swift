/// A StatefulSet (`apps/v1`): Pods with stable names (`<name>-0`, `<name>-1`, ...) and DNS names
/// under a headless Service.
public struct StatefulSet: KubeObject {
    public static let apiVersion = "apps/v1"
    public static let kind = "StatefulSet"
    public static let plural = "statefulsets"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: StatefulSetSpec?
    public var status: StatefulSetStatus?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), spec: StatefulSetSpec? = nil, status: StatefulSetStatus? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The desired state of a StatefulSet.
public struct StatefulSetSpec: Codable, Sendable, Hashable {
    public var replicas: Int?
    public var selector: LabelSelector
    public var template: PodTemplateSpec
    /// The headless Service that gives each Pod its DNS name.
    public var serviceName: String?
    /// `OrderedReady` (the default) or `Parallel`.
    public var podManagementPolicy: String?
    public var updateStrategy: StatefulSetUpdateStrategy?
    public var revisionHistoryLimit: Int?
    public var minReadySeconds: Int?
    public var volumeClaimTemplates: [JSONValue]?
    public var persistentVolumeClaimRetentionPolicy: JSONValue?
    public var ordinals: JSONValue?

    public init(
        replicas: Int? = nil, selector: LabelSelector, template: PodTemplateSpec, serviceName: String? = nil,
        podManagementPolicy: String? = nil, updateStrategy: StatefulSetUpdateStrategy? = nil,
        revisionHistoryLimit: Int? = nil, minReadySeconds: Int? = nil,
        volumeClaimTemplates: [JSONValue]? = nil, persistentVolumeClaimRetentionPolicy: JSONValue? = nil,
        ordinals: JSONValue? = nil
    ) {
        self.replicas = replicas
        self.selector = selector
        self.template = template
        self.serviceName = serviceName
        self.podManagementPolicy = podManagementPolicy
        self.updateStrategy = updateStrategy
        self.revisionHistoryLimit = revisionHistoryLimit
        self.minReadySeconds = minReadySeconds
        self.volumeClaimTemplates = volumeClaimTemplates
        self.persistentVolumeClaimRetentionPolicy = persistentVolumeClaimRetentionPolicy
        self.ordinals = ordinals
    }
}

/// How a StatefulSet replaces its Pods.
public struct StatefulSetUpdateStrategy: Codable, Sendable, Hashable {
    /// `RollingUpdate` (the default) or `OnDelete`.
    public var type: String?
    public var rollingUpdate: RollingUpdateStatefulSetStrategy?

    public init(type: String? = nil, rollingUpdate: RollingUpdateStatefulSetStrategy? = nil) {
        self.type = type
        self.rollingUpdate = rollingUpdate
    }
}

/// The range of a StatefulSet's rolling update.
public struct RollingUpdateStatefulSetStrategy: Codable, Sendable, Hashable {
    /// Only Pods with an ordinal at or above this are updated.
    public var partition: Int?
    public var maxUnavailable: IntOrString?

    public init(partition: Int? = nil, maxUnavailable: IntOrString? = nil) {
        self.partition = partition
        self.maxUnavailable = maxUnavailable
    }
}

/// The observed state of a StatefulSet.
public struct StatefulSetStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int?
    public var replicas: Int?
    public var readyReplicas: Int?
    public var currentReplicas: Int?
    public var updatedReplicas: Int?
    public var availableReplicas: Int?
    public var currentRevision: String?
    public var updateRevision: String?
    public var collisionCount: Int?
    public var conditions: [Condition]?

    public init(
        observedGeneration: Int? = nil, replicas: Int? = nil, readyReplicas: Int? = nil,
        currentReplicas: Int? = nil, updatedReplicas: Int? = nil, availableReplicas: Int? = nil,
        currentRevision: String? = nil, updateRevision: String? = nil, collisionCount: Int? = nil,
        conditions: [Condition]? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.replicas = replicas
        self.readyReplicas = readyReplicas
        self.currentReplicas = currentReplicas
        self.updatedReplicas = updatedReplicas
        self.availableReplicas = availableReplicas
        self.currentRevision = currentRevision
        self.updateRevision = updateRevision
        self.collisionCount = collisionCount
        self.conditions = conditions
    }
}
