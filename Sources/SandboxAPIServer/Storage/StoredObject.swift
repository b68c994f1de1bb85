import KubeClient

/// An object as stored: its tree, its serialized bytes (cached so lists and watches only copy
/// bytes) and the resourceVersion of the write that made it.
public struct StoredObject: Sendable {
    public let value: JSONValue
    public let bytes: [UInt8]
    public let resourceVersion: Int

    init(value: JSONValue, resourceVersion: Int) {
        self.value = value
        self.bytes = JSONBytes.encode(value)
        self.resourceVersion = resourceVersion
    }

    public var name: String { value["metadata"]?["name"]?.stringValue ?? "" }
    public var namespace: String { value["metadata"]?["namespace"]?.stringValue ?? "" }
    public var uid: String { value["metadata"]?["uid"]?.stringValue ?? "" }
    public var labels: [String: String] {
        var result: [String: String] = [:]
        for (k, v) in value["metadata"]?["labels"]?.objectValue ?? [:] { result[k] = v.stringValue ?? "" }
        return result
    }
}

/// One change in the store, as watches see it.
public struct StoreEvent: Sendable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
    public let kind: Kind
    public let resource: ResourceType
    public let object: StoredObject
    /// The object before this change (nil for ADDED), so selector watches can tell an object
    /// that stopped matching (sent as DELETED) from one that never matched.
    public let previous: StoredObject?
    public var resourceVersion: Int { object.resourceVersion }
}
