/// Names one kind of API resource: where its collection lives and what it is called.
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// API group, `""` for the core group.
    public var group: String
    public var version: String
    /// Plural resource name as in the URL, e.g. `deployments`.
    public var resource: String
    public var namespaced: Bool
    public var kind: String

    public init(group: String, version: String, resource: String, namespaced: Bool, kind: String) {
        self.group = group
        self.version = version
        self.resource = resource
        self.namespaced = namespaced
        self.kind = kind
    }

    /// `v1` or `apps/v1`, as in an object's `apiVersion`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// `pods` or `deployments.apps`, as kubectl and the API's messages name resources.
    public var description: String { group.isEmpty ? resource : "\(resource).\(group)" }

    /// `/api/v1` or `/apis/apps/v1`.
    var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The URL path of the collection (`name == nil`) or of one object, optionally a subresource.
    /// A `nil` namespace on a namespaced resource means all namespaces (list and watch only).
    func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace { path += "/namespaces/\(QueryEncoding.escape(namespace))" }
        path += "/\(resource)"
        if let name { path += "/\(QueryEncoding.escape(name))" }
        if let subresource { path += "/\(subresource)" }
        return path
    }
}

extension ResourceDescriptor {
    public static let namespaces = core("namespaces", "Namespace", namespaced: false)
    public static let nodes = core("nodes", "Node", namespaced: false)
    public static let pods = core("pods", "Pod")
    public static let services = core("services", "Service")
    public static let endpoints = core("endpoints", "Endpoints")
    public static let configMaps = core("configmaps", "ConfigMap")
    public static let secrets = core("secrets", "Secret")
    public static let serviceAccounts = core("serviceaccounts", "ServiceAccount")
    public static let events = core("events", "Event")
    public static let deployments = apps("deployments", "Deployment")
    public static let replicaSets = apps("replicasets", "ReplicaSet")
    public static let statefulSets = apps("statefulsets", "StatefulSet")
    public static let mutatingWebhookConfigurations = ResourceDescriptor(
        group: "admissionregistration.k8s.io", version: "v1", resource: "mutatingwebhookconfigurations",
        namespaced: false, kind: "MutatingWebhookConfiguration")

    private static func core(_ resource: String, _ kind: String, namespaced: Bool = true) -> ResourceDescriptor {
        ResourceDescriptor(group: "", version: "v1", resource: resource, namespaced: namespaced, kind: kind)
    }

    private static func apps(_ resource: String, _ kind: String) -> ResourceDescriptor {
        ResourceDescriptor(group: "apps", version: "v1", resource: resource, namespaced: true, kind: kind)
    }
}
