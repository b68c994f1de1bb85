import Foundation

/// A ConfigMap (`v1`): configuration as text (`data`) and bytes (`binaryData`) that Pods read
/// as environment variables or files.
public struct ConfigMap: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "ConfigMap"
    public static let plural = "configmaps"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    public var data: [String: String]?
    /// The bytes of each key (base64 on the wire). A key may not appear in both maps.
    public var binaryData: [String: Data]?
    public var immutable: Bool?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), data: [String: String]? = nil, binaryData: [String: Data]? = nil,
        immutable: Bool? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.data = data
        self.binaryData = binaryData
        self.immutable = immutable
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, data, binaryData, immutable
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        data = try container.decodeIfPresent([String: String].self, forKey: .data)
        binaryData = try container.decodeBase64MapIfPresent(forKey: .binaryData)
        immutable = try container.decodeIfPresent(Bool.self, forKey: .immutable)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(apiVersion, forKey: .apiVersion)
        try container.encodeIfPresent(kind, forKey: .kind)
        try container.encode(metadata, forKey: .metadata)
        try container.encodeIfPresent(data, forKey: .data)
        try container.encodeBase64MapIfPresent(binaryData, forKey: .binaryData)
        try container.encodeIfPresent(immutable, forKey: .immutable)
    }
}
