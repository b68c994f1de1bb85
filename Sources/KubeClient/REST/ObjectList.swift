/// The `metadata` of a list: where it stands and how to get the next page.
public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    /// The token for the next page; `nil` or empty on the last page.
    public var continueToken: String?
    public var remainingItemCount: Int?

    public init(resourceVersion: String? = nil, continueToken: String? = nil, remainingItemCount: Int? = nil) {
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }

    private enum CodingKeys: String, CodingKey {
        case resourceVersion, continueToken = "continue", remainingItemCount
    }
}

/// A page of a list (or, from `listAll`, all pages): the items and the list's resourceVersion,
/// from which a watch can continue.
public struct ObjectList<Item: Decodable & Sendable>: Decodable, Sendable {
    public var metadata: ListMeta
    public var items: [Item]

    public init(metadata: ListMeta, items: [Item]) {
        self.metadata = metadata
        self.items = items
    }

    public var resourceVersion: String? { metadata.resourceVersion }
    public var continueToken: String? {
        metadata.continueToken.flatMap { $0.isEmpty ? nil : $0 }
    }

    private enum CodingKeys: String, CodingKey { case metadata, items }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        metadata = try container.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        // The real server sends `items: []`, but a null must not break a client.
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}

/// `autoscaling/v1 Scale` reduced to what callers read: desired and observed replicas.
public struct ScaleInfo: Sendable, Hashable {
    public var replicas: Int
    public var observedReplicas: Int
    /// The label selector of the pods, as a string (`app=web`).
    public var selector: String?
}
