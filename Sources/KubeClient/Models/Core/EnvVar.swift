/// An environment variable of a container: a literal `value` or a reference in `valueFrom`.
public struct EnvVar: Codable, Sendable, Hashable {
    public var name: String
    /// May refer to earlier variables as `$(NAME)`.
    public var value: String?
    public var valueFrom: EnvVarSource?

    public init(name: String, value: String? = nil, valueFrom: EnvVarSource? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }
}

/// Where an environment variable's value comes from; exactly one is set.
public struct EnvVarSource: Codable, Sendable, Hashable {
    public var configMapKeyRef: ConfigMapKeySelector?
    public var secretKeyRef: SecretKeySelector?
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?

    public init(
        configMapKeyRef: ConfigMapKeySelector? = nil, secretKeyRef: SecretKeySelector? = nil,
        fieldRef: ObjectFieldSelector? = nil, resourceFieldRef: ResourceFieldSelector? = nil
    ) {
        self.configMapKeyRef = configMapKeyRef
        self.secretKeyRef = secretKeyRef
        self.fieldRef = fieldRef
        self.resourceFieldRef = resourceFieldRef
    }
}

/// One key of a ConfigMap in the Pod's namespace.
public struct ConfigMapKeySelector: Codable, Sendable, Hashable {
    public var name: String?
    public var key: String
    public var optional: Bool?

    public init(name: String? = nil, key: String, optional: Bool? = nil) {
        self.name = name
        self.key = key
        self.optional = optional
    }
}

/// One key of a Secret in the Pod's namespace.
public struct SecretKeySelector: Codable, Sendable, Hashable {
    public var name: String?
    public var key: String
    public var optional: Bool?

    public init(name: String? = nil, key: String, optional: Bool? = nil) {
        self.name = name
        self.key = key
        self.optional = optional
    }
}

/// A field of the Pod itself, e.g. `metadata.name` or `status.podIP`.
public struct ObjectFieldSelector: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var fieldPath: String

    public init(apiVersion: String? = nil, fieldPath: String) {
        self.apiVersion = apiVersion
        self.fieldPath = fieldPath
    }
}

/// A resource request or limit of a container, e.g. `limits.memory`.
public struct ResourceFieldSelector: Codable, Sendable, Hashable {
    public var containerName: String?
    public var resource: String
    public var divisor: Quantity?

    public init(containerName: String? = nil, resource: String, divisor: Quantity? = nil) {
        self.containerName = containerName
        self.resource = resource
        self.divisor = divisor
    }
}

/// All keys of a ConfigMap or a Secret as environment variables.
public struct EnvFromSource: Codable, Sendable, Hashable {
    /// Prepended to every key.
    public var prefix: String?
    public var configMapRef: ConfigMapEnvSource?
    public var secretRef: SecretEnvSource?

    public init(
        prefix: String? = nil, configMapRef: ConfigMapEnvSource? = nil, secretRef: SecretEnvSource? = nil
    ) {
        self.prefix = prefix
        self.configMapRef = configMapRef
        self.secretRef = secretRef
    }
}

/// A ConfigMap whose keys become environment variables.
public struct ConfigMapEnvSource: Codable, Sendable, Hashable {
    public var name: String?
    public var optional: Bool?

    public init(name: String? = nil, optional: Bool? = nil) {
        self.name = name
        self.optional = optional
    }
}

/// A Secret whose keys become environment variables.
public struct SecretEnvSource: Codable, Sendable, Hashable {
    public var name: String?
    public var optional: Bool?

    public init(name: String? = nil, optional: Bool? = nil) {
        self.name = name
        self.optional = optional
    }
}
