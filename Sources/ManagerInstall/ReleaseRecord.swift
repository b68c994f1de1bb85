import Foundation
import KubeClient

/// What an install owns, kept in the cluster (a Secret in the release namespace, as helm keeps
/// its releases) so that upgrade and uninstall know which objects are theirs, whoever runs them.
public struct ReleaseRecord: Codable, Sendable, Equatable {
    /// One object of the release.
    public struct ObjectRef: Codable, Sendable, Hashable {
        public var apiVersion: String
        public var kind: String
        public var name: String
        public var namespace: String?
    }

    public var name: String
    public var namespace: String
    public var revision: Int
    public var version: String
    public var values: ManagerValues
    public var objects: [ObjectRef]
    /// Whether the install created the namespace (then uninstall removes it too).
    public var createdNamespace: Bool
    public var updated: String

    /// The Secret's name (one per release; the revision is inside).
    public static func secretName(release: String) -> String { "telepresence.release.\(release)" }
    public static let secretType = "telepresence.io/release.v1"

    func secret() throws -> JSONValue {
        let data = try JSONEncoder().encode(self)
        return [
            "apiVersion": "v1", "kind": "Secret", "type": .string(Self.secretType),
            "metadata": [
                "name": .string(Self.secretName(release: name)), "namespace": .string(namespace),
                "labels": ["owner": "telepresence", "name": .string(name), "version": .string(String(revision)), "status": "deployed"],
            ],
            "data": ["release": .string(data.base64EncodedString())],
        ]
    }

    static func from(secret: JSONValue) throws -> ReleaseRecord {
        guard let text = secret["data"]?["release"]?.stringValue, let data = Data(base64Encoded: text) else {
            throw InstallError.apiFailed(what: "reading the release record", reason: "the Secret has no release data; delete it with kubectl and install again")
        }
        return try JSONDecoder().decode(ReleaseRecord.self, from: data)
    }
}

extension ReleaseRecord.ObjectRef {
    init?(_ object: JSONValue) {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
              let name = object["metadata"]?["name"]?.stringValue else { return nil }
        self.init(apiVersion: apiVersion, kind: kind, name: name, namespace: object["metadata"]?["namespace"]?.stringValue)
    }

    /// Where objects of this kind live in the API.
    var resource: ResourceDescriptor {
        let parts = apiVersion.split(separator: "/")
        let group = parts.count == 2 ? String(parts[0]) : ""
        let version = String(parts.last ?? "v1")
        let plural = kind.lowercased() + (kind.hasSuffix("s") ? "es" : "s")
        return ResourceDescriptor(group: group, version: version, resource: plural, namespaced: namespace != nil, kind: kind)
    }
}
