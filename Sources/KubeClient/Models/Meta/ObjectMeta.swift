/// The `metadata` of every object: identity, labels, annotations, ownership and the
/// bookkeeping the API server sets (`uid`, `resourceVersion`, timestamps).
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    /// A prefix from which the server makes a unique name when `name` is empty.
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    /// An opaque version to compare for equality only; set it on an update to fail with a
    /// conflict when someone else changed the object in between.
    public var resourceVersion: String?
    public var generation: Int?
    public var creationTimestamp: KubeTime?
    public var deletionTimestamp: KubeTime?
    public var deletionGracePeriodSeconds: Int?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?
    /// Server-side apply bookkeeping, kept as JSON because this project never interprets it.
    public var managedFields: [JSONValue]?

    public init(
        name: String? = nil, generateName: String? = nil, namespace: String? = nil, uid: String? = nil,
        resourceVersion: String? = nil, generation: Int? = nil, creationTimestamp: KubeTime? = nil,
        deletionTimestamp: KubeTime? = nil, deletionGracePeriodSeconds: Int? = nil,
        labels: [String: String]? = nil, annotations: [String: String]? = nil,
        ownerReferences: [OwnerReference]? = nil, finalizers: [String]? = nil, managedFields: [JSONValue]? = nil
    ) {
        self.name = name
        self.generateName = generateName
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
        self.deletionGracePeriodSeconds = deletionGracePeriodSeconds
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
        self.finalizers = finalizers
        self.managedFields = managedFields
    }
}
