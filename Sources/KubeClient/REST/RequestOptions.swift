/// Filters and paging of a list (and, without paging, of a watch).
public struct ListOptions: Sendable, Hashable {
    /// e.g. `app=web,tier!=db`.
    public var labelSelector: String?
    /// e.g. `metadata.name=web`, `status.phase=Running`.
    public var fieldSelector: String?
    /// At most this many items per page; the server then returns a continue token.
    public var limit: Int?
    /// The continue token of the previous page.
    public var continueToken: String?
    /// `"0"` allows a cached answer; `nil` asks for the most recent state.
    public var resourceVersion: String?

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil,
        continueToken: String? = nil, resourceVersion: String? = nil
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }

    var query: [(name: String, value: String)] {
        var query: [(name: String, value: String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        if let limit { query.append(("limit", String(limit))) }
        if let continueToken { query.append(("continue", continueToken)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        return query
    }
}

/// Options of create, update and patch.
public struct WriteOptions: Sendable, Hashable {
    /// The field manager recorded in `managedFields` (required for server-side apply).
    public var fieldManager: String?
    /// Let the server validate and answer without persisting.
    public var dryRun: Bool
    /// `Strict`, `Warn` or `Ignore`.
    public var fieldValidation: String?

    public init(fieldManager: String? = nil, dryRun: Bool = false, fieldValidation: String? = nil) {
        self.fieldManager = fieldManager
        self.dryRun = dryRun
        self.fieldValidation = fieldValidation
    }

    var query: [(name: String, value: String)] {
        var query: [(name: String, value: String)] = []
        if dryRun { query.append(("dryRun", "All")) }
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        if let fieldValidation { query.append(("fieldValidation", fieldValidation)) }
        return query
    }
}

/// How the body of a PATCH is interpreted.
public enum PatchType: Sendable, Hashable {
    /// RFC 6902 JSON Patch: an array of operations.
    case json
    /// RFC 7386 JSON merge patch: objects merge, `null` deletes, lists are replaced.
    case merge
    /// Kubernetes strategic merge patch: lists with merge keys merge element-wise.
    case strategicMerge
    /// Server-side apply of a full (partial) manifest, owned by `fieldManager`; `force` takes
    /// over fields owned by other managers instead of failing with a conflict.
    case apply(fieldManager: String, force: Bool = false)

    public var contentType: String {
        switch self {
        case .json: "application/json-patch+json"
        case .merge: "application/merge-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        case .apply: "application/apply-patch+yaml"
        }
    }
}

/// Options of a delete.
public struct DeleteOptions: Sendable, Hashable, Encodable {
    public enum PropagationPolicy: String, Sendable, Hashable, Encodable {
        case background = "Background", foreground = "Foreground", orphan = "Orphan"
    }

    /// Only delete when the object still has this uid and/or resourceVersion.
    public struct Preconditions: Sendable, Hashable, Encodable {
        public var uid: String?
        public var resourceVersion: String?
        public init(uid: String? = nil, resourceVersion: String? = nil) {
            self.uid = uid
            self.resourceVersion = resourceVersion
        }
    }

    public var propagationPolicy: PropagationPolicy?
    public var gracePeriodSeconds: Int?
    public var preconditions: Preconditions?
    public var dryRun: Bool

    public init(
        propagationPolicy: PropagationPolicy? = .background, gracePeriodSeconds: Int? = nil,
        preconditions: Preconditions? = nil, dryRun: Bool = false
    ) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditions = preconditions
        self.dryRun = dryRun
    }

    private enum CodingKeys: String, CodingKey { case propagationPolicy, gracePeriodSeconds, preconditions, dryRun }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(propagationPolicy, forKey: .propagationPolicy)
        try container.encodeIfPresent(gracePeriodSeconds, forKey: .gracePeriodSeconds)
        try container.encodeIfPresent(preconditions, forKey: .preconditions)
        if dryRun { try container.encode(["All"], forKey: .dryRun) }
    }
}

/// Which log of which container, and how much of it.
public struct LogOptions: Sendable, Hashable {
    /// Required when the pod has more than one container.
    public var container: String?
    /// Only the last N lines.
    public var tailLines: Int?
    /// Only lines newer than this many seconds.
    public var sinceSeconds: Int?
    /// The log of the previous (crashed) instance of the container.
    public var previous: Bool
    /// Prefix each line with an RFC 3339 timestamp.
    public var timestamps: Bool
    public var limitBytes: Int?

    public init(
        container: String? = nil, tailLines: Int? = nil, sinceSeconds: Int? = nil,
        previous: Bool = false, timestamps: Bool = false, limitBytes: Int? = nil
    ) {
        self.container = container
        self.tailLines = tailLines
        self.sinceSeconds = sinceSeconds
        self.previous = previous
        self.timestamps = timestamps
        self.limitBytes = limitBytes
    }

    func query(follow: Bool) -> [(name: String, value: String)] {
        var query: [(name: String, value: String)] = []
        if let container { query.append(("container", container)) }
        if follow { query.append(("follow", "true")) }
        if let limitBytes { query.append(("limitBytes", String(limitBytes))) }
        if previous { query.append(("previous", "true")) }
        if let sinceSeconds { query.append(("sinceSeconds", String(sinceSeconds))) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        if timestamps { query.append(("timestamps", "true")) }
        return query
    }
}
