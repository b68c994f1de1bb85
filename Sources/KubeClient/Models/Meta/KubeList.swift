/// A list response such as `PodList`: `{"kind":"PodList","apiVersion":"v1","metadata":{...},"items":[...]}`.
///
/// A missing or `null` `items` decodes as empty, and items may lack `kind` and `apiVersion`,
/// as they do in the real server's lists.
public struct KubeList<Item> {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta
    public var items: [Item]

    public init(apiVersion: String? = nil, kind: String? = nil, metadata: ListMeta = ListMeta(), items: [Item] = []) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.metadata = metadata
        self.items = items
    }
}

extension KubeList where Item: KubeObject {
    /// An empty list with the `kind` and `apiVersion` the server would send for `Item`.
    public init(metadata: ListMeta = ListMeta(), items: [Item] = []) {
        self.init(apiVersion: Item.apiVersion, kind: Item.listKind, metadata: metadata, items: items)
    }
}

extension KubeList: Sendable where Item: Sendable {}
extension KubeList: Equatable where Item: Equatable {}
extension KubeList: Hashable where Item: Hashable {}

extension KubeList {
    /// The list's version, from which a watch continues.
    public var resourceVersion: String? { metadata.resourceVersion }
    /// The token of the next page; `nil` on the last page (the server may send "").
    public var continueToken: String? { metadata.continue.flatMap { $0.isEmpty ? nil : $0 } }
}

private enum KubeListCodingKeys: String, CodingKey {
    case apiVersion, kind, metadata, items
}

extension KubeList: Decodable where Item: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: KubeListCodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ListMeta.self, forKey: .metadata) ?? ListMeta()
        items = try container.decodeIfPresent([Item].self, forKey: .items) ?? []
    }
}

extension KubeList: Encodable where Item: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: KubeListCodingKeys.self)
        try container.encodeIfPresent(apiVersion, forKey: .apiVersion)
        try container.encodeIfPresent(kind, forKey: .kind)
        try container.encode(metadata, forKey: .metadata)
        // The server never sends `null` items; neither do we.
        try container.encode(items, forKey: .items)
    }
}
