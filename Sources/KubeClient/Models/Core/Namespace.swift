/// A Namespace (`v1`, cluster-scoped).
public struct Namespace: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "Namespace"
    public static let plural = "namespaces"
    public static let namespaced = false

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: NamespaceSpec?
    public var status: NamespaceStatus?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), spec: NamespaceSpec? = nil, status: NamespaceStatus? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// What must happen before a Namespace is removed.
public struct NamespaceSpec: Codable, Sendable, Hashable {
    public var finalizers: [String]?

    public init(finalizers: [String]? = nil) {
        self.finalizers = finalizers
    }
}

/// The lifecycle of a Namespace.
public struct NamespaceStatus: Codable, Sendable, Hashable {
    /// `Active` or `Terminating`.
    public var phase: String?
    public var conditions: [Condition]?

    public init(phase: String? = nil, conditions: [Condition]? = nil) {
        self.phase = phase
        self.conditions = conditions
    }
}
