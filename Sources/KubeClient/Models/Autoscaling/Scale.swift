/// The `scale` subresource of a workload (`autoscaling/v1`), e.g.
/// `/apis/apps/v1/namespaces/default/deployments/web/scale`. It is no resource of its own, so it
/// is not a `KubeObject`.
public struct Scale: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta?
    public var spec: ScaleSpec?
    public var status: ScaleStatus?

    public init(
        apiVersion: String? = Scale.apiVersion, kind: String? = Scale.kind, metadata: ObjectMeta? = nil,
        spec: ScaleSpec? = nil,
        status: ScaleStatus? = nil
    ) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public static let apiVersion = "autoscaling/v1"
    public static let kind = "Scale"
}

/// The desired number of replicas.
public struct ScaleSpec: Codable, Sendable, Hashable {
    public var replicas: Int?

    public init(replicas: Int? = nil) {
        self.replicas = replicas
    }
}

/// The observed replicas and the label selector of the Pods they count.
public struct ScaleStatus: Codable, Sendable, Hashable {
    public var replicas: Int?
    /// In the query form, e.g. `app=web`.
    public var selector: String?

    public init(replicas: Int? = nil, selector: String? = nil) {
        self.replicas = replicas
        self.selector = selector
    }
}
