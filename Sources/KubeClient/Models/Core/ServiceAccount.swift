/// A ServiceAccount (`v1`): the identity that Pods run as toward the API server.
public struct ServiceAccount: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "ServiceAccount"
    public static let plural = "serviceaccounts"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var secrets: [ObjectReference]?
    public var imagePullSecrets: [LocalObjectReference]?
    public var automountServiceAccountToken: Bool?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), secrets: [ObjectReference]? = nil,
        imagePullSecrets: [LocalObjectReference]? = nil, automountServiceAccountToken: Bool? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.secrets = secrets
        self.imagePullSecrets = imagePullSecrets
        self.automountServiceAccountToken = automountServiceAccountToken
    }
}
