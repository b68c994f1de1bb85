import Foundation

/// A Secret (`v1`): credentials and keys. `data` holds the decoded bytes; the wire form is
/// base64, which this type decodes and encodes so a round trip keeps the server's text.
public struct Secret: KubeObject {
    public static let apiVersion = "v1"
    public static let kind = "Secret"
    public static let plural = "secrets"
    public static let namespaced = true

    /// As sent; `nil` in list items. New objects get `Self.apiVersion`.
    public var apiVersion: String?
    /// As sent; `nil` in list items. New objects get `Self.kind`.
    public var kind: String?
    public var metadata: ObjectMeta
    /// The bytes of each key (base64 on the wire).
    public var data: [String: Data]?
    /// Plain text values to write; the server merges them into `data` and never returns them.
    public var stringData: [String: String]?
    /// E.g. `Opaque`, `kubernetes.io/tls`, `kubernetes.io/service-account-token`.
    public var type: String?
    public var immutable: Bool?

    /// A new object with `apiVersion` and `kind` set, ready to create.
    public init(
        metadata: ObjectMeta = ObjectMeta(), data: [String: Data]? = nil, stringData: [String: String]? = nil,
        type: String? = nil, immutable: Bool? = nil
    ) {
        self.apiVersion = Self.apiVersion
        self.kind = Self.kind
        self.metadata = metadata
        self.data = data
        self.stringData = stringData
        self.type = type
        self.immutable = immutable
    }

    /// The value of `key` as UTF-8 text, e.g. a token; `nil` when absent or not UTF-8.
    public func string(_ key: String) -> String? {
        data?[key].flatMap { String(data: $0, encoding: .utf8) }
    }

    private enum CodingKeys: String, CodingKey {
        case apiVersion, kind, metadata, data, stringData, type, immutable
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decode(ObjectMeta.self, forKey: .metadata)
        data = try container.decodeBase64MapIfPresent(forKey: .data)
        stringData = try container.decodeIfPresent([String: String].self, forKey: .stringData)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        immutable = try container.decodeIfPresent(Bool.self, forKey: .immutable)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(apiVersion, forKey: .apiVersion)
        try container.encodeIfPresent(kind, forKey: .kind)
        try container.encode(metadata, forKey: .metadata)
        try container.encodeBase64MapIfPresent(data, forKey: .data)
        try container.encodeIfPresent(stringData, forKey: .stringData)
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(immutable, forKey: .immutable)
    }
}
