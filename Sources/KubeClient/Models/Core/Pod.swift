/// A Pod (`v1`): containers that run together on one node, sharing a network namespace and
/// volumes.
public struct Pod: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "Pod"
    public static let plural = "pods"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: PodSpec?
    /// Set by the node and the scheduler; ignored on create.
    public var status: PodStatus?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: PodSpec? = nil, status: PodStatus? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}
