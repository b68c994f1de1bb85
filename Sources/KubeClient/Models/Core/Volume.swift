/// A volume of a Pod: a name and one source. Sources this project does not model decode as a
/// volume with no source set (patch the raw JSON to keep them).
public struct Volume: Codable, Sendable, Hashable {
    public var name: String
    public var emptyDir: EmptyDirVolumeSource?
    public var configMap: ConfigMapVolumeSource?
    public var secret: SecretVolumeSource?
    public var downwardAPI: DownwardAPIVolumeSource?
    public var projected: ProjectedVolumeSource?
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    public var hostPath: HostPathVolumeSource?

    public init(
        name: String, emptyDir: EmptyDirVolumeSource? = nil, configMap: ConfigMapVolumeSource? = nil,
        secret: SecretVolumeSource? = nil, downwardAPI: DownwardAPIVolumeSource? = nil,
        projected: ProjectedVolumeSource? = nil,
        persistentVolumeClaim: PersistentVolumeClaimVolumeSource? = nil, hostPath: HostPathVolumeSource? = nil
    ) {
        self.name = name
        self.emptyDir = emptyDir
        self.configMap = configMap
        self.secret = secret
        self.downwardAPI = downwardAPI
        self.projected = projected
        self.persistentVolumeClaim = persistentVolumeClaim
        self.hostPath = hostPath
    }
}

/// A scratch directory that lives as long as the Pod. `{}` on the wire when no option is set.
public struct EmptyDirVolumeSource: Codable, Sendable, Hashable {
    /// `""` (node disk) or `Memory`.
    public var medium: String?
    public var sizeLimit: Quantity?

    public init(medium: String? = nil, sizeLimit: Quantity? = nil) {
        self.medium = medium
        self.sizeLimit = sizeLimit
    }
}

/// The keys of a ConfigMap as files.
public struct ConfigMapVolumeSource: Codable, Sendable, Hashable {
    public var name: String?
    /// Only these keys, at these paths; all keys when `nil`.
    public var items: [KeyToPath]?
    /// File mode bits, e.g. 420 (0644).
    public var defaultMode: Int?
    public var optional: Bool?

    public init(
        name: String? = nil, items: [KeyToPath]? = nil, defaultMode: Int? = nil, optional: Bool? = nil
    ) {
        self.name = name
        self.items = items
        self.defaultMode = defaultMode
        self.optional = optional
    }
}

/// The keys of a Secret as files.
public struct SecretVolumeSource: Codable, Sendable, Hashable {
    public var secretName: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int?
    public var optional: Bool?

    public init(
        secretName: String? = nil, items: [KeyToPath]? = nil, defaultMode: Int? = nil, optional: Bool? = nil
    ) {
        self.secretName = secretName
        self.items = items
        self.defaultMode = defaultMode
        self.optional = optional
    }
}

/// Maps one key of a ConfigMap or Secret to a file path in the volume.
public struct KeyToPath: Codable, Sendable, Hashable {
    public var key: String
    public var path: String
    public var mode: Int?

    public init(key: String, path: String, mode: Int? = nil) {
        self.key = key
        self.path = path
        self.mode = mode
    }
}

/// Fields of the Pod (labels, annotations, resources) as files.
public struct DownwardAPIVolumeSource: Codable, Sendable, Hashable {
    public var items: [DownwardAPIVolumeFile]?
    public var defaultMode: Int?

    public init(items: [DownwardAPIVolumeFile]? = nil, defaultMode: Int? = nil) {
        self.items = items
        self.defaultMode = defaultMode
    }
}

/// One file of a downward API volume.
public struct DownwardAPIVolumeFile: Codable, Sendable, Hashable {
    public var path: String
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var mode: Int?

    public init(
        path: String, fieldRef: ObjectFieldSelector? = nil, resourceFieldRef: ResourceFieldSelector? = nil,
        mode: Int? = nil
    ) {
        self.path = path
        self.fieldRef = fieldRef
        self.resourceFieldRef = resourceFieldRef
        self.mode = mode
    }
}

/// Several sources in one directory; the service account token volume
/// (`kube-api-access-*`) that every Pod gets is one.
public struct ProjectedVolumeSource: Codable, Sendable, Hashable {
    public var sources: [VolumeProjection]?
    public var defaultMode: Int?

    public init(sources: [VolumeProjection]? = nil, defaultMode: Int? = nil) {
        self.sources = sources
        self.defaultMode = defaultMode
    }
}

/// One source of a projected volume; exactly one is set.
public struct VolumeProjection: Codable, Sendable, Hashable {
    public var configMap: ConfigMapProjection?
    public var secret: SecretProjection?
    public var downwardAPI: DownwardAPIProjection?
    public var serviceAccountToken: ServiceAccountTokenProjection?

    public init(
        configMap: ConfigMapProjection? = nil, secret: SecretProjection? = nil,
        downwardAPI: DownwardAPIProjection? = nil, serviceAccountToken: ServiceAccountTokenProjection? = nil
    ) {
        self.configMap = configMap
        self.secret = secret
        self.downwardAPI = downwardAPI
        self.serviceAccountToken = serviceAccountToken
    }
}

/// A ConfigMap in a projected volume.
public struct ConfigMapProjection: Codable, Sendable, Hashable {
    public var name: String?
    public var items: [KeyToPath]?
    public var optional: Bool?

    public init(name: String? = nil, items: [KeyToPath]? = nil, optional: Bool? = nil) {
        self.name = name
        self.items = items
        self.optional = optional
    }
}

/// A Secret in a projected volume.
public struct SecretProjection: Codable, Sendable, Hashable {
    public var name: String?
    public var items: [KeyToPath]?
    public var optional: Bool?

    public init(name: String? = nil, items: [KeyToPath]? = nil, optional: Bool? = nil) {
        self.name = name
        self.items = items
        self.optional = optional
    }
}

/// Downward API files in a projected volume.
public struct DownwardAPIProjection: Codable, Sendable, Hashable {
    public var items: [DownwardAPIVolumeFile]?

    public init(items: [DownwardAPIVolumeFile]? = nil) {
        self.items = items
    }
}

/// A bound service account token in a projected volume.
public struct ServiceAccountTokenProjection: Codable, Sendable, Hashable {
    public var audience: String?
    public var expirationSeconds: Int?
    public var path: String

    public init(audience: String? = nil, expirationSeconds: Int? = nil, path: String) {
        self.audience = audience
        self.expirationSeconds = expirationSeconds
        self.path = path
    }
}

/// A PersistentVolumeClaim in the Pod's namespace.
public struct PersistentVolumeClaimVolumeSource: Codable, Sendable, Hashable {
    public var claimName: String
    public var readOnly: Bool?

    public init(claimName: String, readOnly: Bool? = nil) {
        self.claimName = claimName
        self.readOnly = readOnly
    }
}

/// A file or directory of the node.
public struct HostPathVolumeSource: Codable, Sendable, Hashable {
    public var path: String
    public var type: String?

    public init(path: String, type: String? = nil) {
        self.path = path
        self.type = type
    }
}
