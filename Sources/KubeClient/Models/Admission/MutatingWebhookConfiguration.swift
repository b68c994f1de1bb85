/// A MutatingWebhookConfiguration (`admissionregistration.k8s.io/v1`, cluster-scoped): webhooks
/// the API server calls to change objects before it stores them.
public struct MutatingWebhookConfiguration: KubeObject {
    public static let apiVersion = "admissionregistration.k8s.io/v1"
    public static let kind = "MutatingWebhookConfiguration"
    public static let plural = "mutatingwebhookconfigurations"
    public static let namespaced = false

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var webhooks: [MutatingWebhook]?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(metadata: ObjectMeta = ObjectMeta(), webhooks: [MutatingWebhook]? = nil) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.webhooks = webhooks
    }
}

/// One webhook: where to call it, for which requests, and what to do when it fails.
public struct MutatingWebhook: Codable, Sendable, Hashable {
    /// A unique, fully qualified name, e.g. `agent-injector.telepresence.io`.
    public var name: String
    public var clientConfig: WebhookClientConfig
    public var rules: [RuleWithOperations]?
    /// `Fail` (the default) or `Ignore`.
    public var failurePolicy: String?
    /// `Equivalent` (the default) or `Exact`.
    public var matchPolicy: String?
    /// `None` or `NoneOnDryRun`.
    public var sideEffects: String
    /// E.g. `["v1"]`; the server uses the first it supports.
    public var admissionReviewVersions: [String]
    public var namespaceSelector: LabelSelector?
    public var objectSelector: LabelSelector?
    /// `Never` (the default) or `IfNeeded`.
    public var reinvocationPolicy: String?
    /// 1 to 30; 10 when `nil`.
    public var timeoutSeconds: Int?
    public var matchConditions: [JSONValue]?

    public init(
        name: String, clientConfig: WebhookClientConfig, rules: [RuleWithOperations]? = nil,
        failurePolicy: String? = nil, matchPolicy: String? = nil, sideEffects: String,
        admissionReviewVersions: [String], namespaceSelector: LabelSelector? = nil,
        objectSelector: LabelSelector? = nil, reinvocationPolicy: String? = nil, timeoutSeconds: Int? = nil,
        matchConditions: [JSONValue]? = nil
    ) {
        self.name = name
        self.clientConfig = clientConfig
        self.rules = rules
        self.failurePolicy = failurePolicy
        self.matchPolicy = matchPolicy
        self.sideEffects = sideEffects
        self.admissionReviewVersions = admissionReviewVersions
        self.namespaceSelector = namespaceSelector
        self.objectSelector = objectSelector
        self.reinvocationPolicy = reinvocationPolicy
        self.timeoutSeconds = timeoutSeconds
        self.matchConditions = matchConditions
    }
}

/// Which requests a webhook sees, e.g. `CREATE` of `pods` in the core group.
public struct RuleWithOperations: Codable, Sendable, Hashable {
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT` or `*`.
    public var operations: [String]?
    /// `""` is the core group.
    public var apiGroups: [String]?
    public var apiVersions: [String]?
    /// E.g. `pods`, `pods/status`, `*`.
    public var resources: [String]?
    /// `Cluster`, `Namespaced` or `*` (the default).
    public var scope: String?

    public init(
        operations: [String]? = nil, apiGroups: [String]? = nil, apiVersions: [String]? = nil,
        resources: [String]? = nil, scope: String? = nil
    ) {
        self.operations = operations
        self.apiGroups = apiGroups
        self.apiVersions = apiVersions
        self.resources = resources
        self.scope = scope
    }
}

/// An in-cluster Service that serves a webhook over HTTPS.
public struct ServiceReference: Codable, Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var path: String?
    /// 443 when `nil`.
    public var port: Int?

    public init(namespace: String, name: String, path: String? = nil, port: Int? = nil) {
        self.namespace = namespace
        self.name = name
        self.path = path
        self.port = port
    }
}
