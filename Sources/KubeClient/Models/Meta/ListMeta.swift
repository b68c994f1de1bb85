/// The `metadata` of a list: the version to start a watch from and the pagination token.
public struct ListMeta: Codable, Sendable, Hashable {
    /// The collection's version; pass it as `resourceVersion` to a watch to get only later changes.
    public var resourceVersion: String?
    /// The token for the next page when the list was cut by `limit`.
    public var `continue`: String?
    /// How many items the next pages hold, when the server knows.
    public var remainingItemCount: Int?

    public init(resourceVersion: String? = nil, continue: String? = nil, remainingItemCount: Int? = nil) {
        self.resourceVersion = resourceVersion
        self.continue = `continue`
        self.remainingItemCount = remainingItemCount
    }
}
