/// A kind of Kubernetes object that the API serves as a resource, so a REST client can be
/// generic over it: `client.get(Pod.self, namespace: "default", name: "web")`.
///
/// Conforming types also carry optional `apiVersion` and `kind` properties for the wire; the
/// static members here describe the resource and do not depend on what an object holds (items
/// of a list usually arrive without `kind` and `apiVersion`).
public protocol KubeObject: Codable, Sendable, Hashable {
    /// `"v1"` for the core group, `"<group>/<version>"` otherwise, e.g. `"apps/v1"`.
    static var apiVersion: String { get }
    /// The kind, e.g. `"Deployment"`.
    static var kind: String { get }
    /// The plural resource name used in paths, e.g. `"deployments"`.
    static var plural: String { get }
    /// Whether objects of this kind live in a namespace (`false` for Node, Namespace, ...).
    static var namespaced: Bool { get }

    var metadata: ObjectMeta { get set }
}

extension KubeObject {
    /// The API group: `""` for the core group, otherwise the part of `apiVersion` before `/`.
    public static var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    /// The version within the group, e.g. `"v1"`.
    public static var version: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return apiVersion }
        return String(apiVersion[apiVersion.index(after: slash)...])
    }

    /// The kind of a list of these objects, e.g. `"PodList"`.
    public static var listKind: String { kind + "List" }
}
