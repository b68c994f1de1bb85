/// One kind of object the sandbox serves: where it lives in the URL space, how discovery
/// describes it and which subresources it has.
public struct ResourceType: Sendable, Hashable {
    public let group: String
    public let version: String
    public let kind: String
    public let plural: String
    public let singular: String
    public let namespaced: Bool
    public let shortNames: [String]
    public let categories: [String]
    /// Subresource name -> the kind its responses carry (group, version, kind).
    public let subresources: [Subresource]
    /// What discovery lists and the API serves; `["create"]` for reviews, which are never stored.
    public var verbs: [String] = ResourceType.allVerbs

    public struct Subresource: Sendable, Hashable {
        public let name: String
        public let group: String
        public let version: String
        public let kind: String
        public let verbs: [String]
    }

    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// Storage key: unique across groups.
    public var id: String { group.isEmpty ? plural : "\(plural).\(group)" }
    /// How kubectl names it in messages: `pods`, `deployments.apps`.
    public var qualifiedName: String { id }
    public var listKind: String { kind + "List" }
    /// The URL prefix of the group-version: `/api/v1` or `/apis/apps/v1`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// Whether a spec change bumps `metadata.generation` (workloads and other spec-carrying kinds).
    var tracksGeneration: Bool {
        ["Deployment", "ReplicaSet", "StatefulSet", "MutatingWebhookConfiguration"].contains(kind)
    }

    func subresource(_ name: String) -> Subresource? { subresources.first { $0.name == name } }
}

/// Everything the sandbox serves, in discovery order.
public enum ResourceCatalog {
    static func status(_ group: String, _ kind: String) -> ResourceType.Subresource {
        .init(name: "status", group: group, version: "v1", kind: kind, verbs: ["get", "patch", "update"])
    }
    static let scale = ResourceType.Subresource(
        name: "scale", group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"])

    static func core(
        _ kind: String, _ plural: String, namespaced: Bool = true, short: [String] = [],
        categories: [String] = [], subresources: [ResourceType.Subresource] = []
    ) -> ResourceType {
        ResourceType(
            group: "", version: "v1", kind: kind, plural: plural, singular: kind.lowercased(),
            namespaced: namespaced, shortNames: short, categories: categories, subresources: subresources)
    }

    public static let all: [ResourceType] = [
        core("Namespace", "namespaces", namespaced: false, short: ["ns"], subresources: [status("", "Namespace")]),
        core("Node", "nodes", namespaced: false, short: ["no"], subresources: [status("", "Node")]),
        core(
            "Pod", "pods", short: ["po"], categories: ["all"],
            subresources: [
                status("", "Pod"),
                .init(name: "attach", group: "", version: "v1", kind: "PodAttachOptions", verbs: ["create", "get"]),
                .init(name: "exec", group: "", version: "v1", kind: "PodExecOptions", verbs: ["create", "get"]),
                .init(name: "log", group: "", version: "v1", kind: "Pod", verbs: ["get"]),
                .init(name: "portforward", group: "", version: "v1", kind: "PodPortForwardOptions", verbs: ["create", "get"]),
                .init(name: "eviction", group: "policy", version: "v1", kind: "Eviction", verbs: ["create"]),
            ]),
        core("Service", "services", short: ["svc"], categories: ["all"], subresources: [status("", "Service")]),
        core("Endpoints", "endpoints", short: ["ep"]),
        core("ConfigMap", "configmaps", short: ["cm"]),
        core("Secret", "secrets"),
        core("ServiceAccount", "serviceaccounts", short: ["sa"], subresources: [
            .init(name: "token", group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"]),
        ]),
        core("Event", "events", short: ["ev"]),
        ResourceType(
            group: "apps", version: "v1", kind: "Deployment", plural: "deployments", singular: "deployment",
            namespaced: true, shortNames: ["deploy"], categories: ["all"],
            subresources: [scale, status("apps", "Deployment")]),
        ResourceType(
            group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", singular: "replicaset",
            namespaced: true, shortNames: ["rs"], categories: ["all"],
            subresources: [scale, status("apps", "ReplicaSet")]),
        ResourceType(
            group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets", singular: "statefulset",
            namespaced: true, shortNames: ["sts"], categories: ["all"],
            subresources: [scale, status("apps", "StatefulSet")]),
        ResourceType(
            group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", singular: "endpointslice",
            namespaced: true, shortNames: [], categories: [], subresources: []),
        ResourceType(
            group: "admissionregistration.k8s.io", version: "v1", kind: "MutatingWebhookConfiguration",
            plural: "mutatingwebhookconfigurations", singular: "mutatingwebhookconfiguration",
            namespaced: false, shortNames: [], categories: ["api-extensions"], subresources: []),
        rbac("Role", "roles", namespaced: true),
        rbac("RoleBinding", "rolebindings", namespaced: true),
        rbac("ClusterRole", "clusterroles", namespaced: false),
        rbac("ClusterRoleBinding", "clusterrolebindings", namespaced: false),
        review("authentication.k8s.io", "SelfSubjectReview", "selfsubjectreviews"),
        review("authentication.k8s.io", "TokenReview", "tokenreviews"),
        review("authorization.k8s.io", "LocalSubjectAccessReview", "localsubjectaccessreviews", namespaced: true),
        review("authorization.k8s.io", "SelfSubjectAccessReview", "selfsubjectaccessreviews"),
        review("authorization.k8s.io", "SelfSubjectRulesReview", "selfsubjectrulesreviews"),
        review("authorization.k8s.io", "SubjectAccessReview", "subjectaccessreviews"),
    ]

    /// A kind that is only created, answered and never stored (see `AccessReviews.swift`).
    static func review(_ group: String, _ kind: String, _ plural: String, namespaced: Bool = false) -> ResourceType {
        ResourceType(
            group: group, version: "v1", kind: kind, plural: plural, singular: kind.lowercased(), namespaced: namespaced,
            shortNames: [], categories: [], subresources: [], verbs: ["create"])
    }

    static func rbac(_ kind: String, _ plural: String, namespaced: Bool) -> ResourceType {
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", kind: kind, plural: plural,
            singular: kind.lowercased(), namespaced: namespaced, shortNames: [], categories: [], subresources: [])
    }

    /// Group name -> versions, in discovery order ("" is the core group).
    static var groups: [String] {
        var seen: [String] = []
        for type in all where !seen.contains(type.group) { seen.append(type.group) }
        return seen
    }

    static let byPath: [String: ResourceType] = {
        var map: [String: ResourceType] = [:]
        for type in all { map["\(type.apiVersion)/\(type.plural)"] = type }
        return map
    }()

    /// Looks a resource up by group-version (`v1`, `apps/v1`) and plural.
    public static func lookup(apiVersion: String, plural: String) -> ResourceType? {
        byPath["\(apiVersion)/\(plural)"]
    }

    public static func lookup(apiVersion: String, kind: String) -> ResourceType? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    public static let namespaces = lookup(apiVersion: "v1", plural: "namespaces")!
    public static let pods = lookup(apiVersion: "v1", plural: "pods")!
    public static let nodes = lookup(apiVersion: "v1", plural: "nodes")!
    public static let services = lookup(apiVersion: "v1", plural: "services")!
    public static let endpoints = lookup(apiVersion: "v1", plural: "endpoints")!
    public static let endpointSlices = lookup(apiVersion: "discovery.k8s.io/v1", plural: "endpointslices")!
    public static let serviceAccounts = lookup(apiVersion: "v1", plural: "serviceaccounts")!
    public static let events = lookup(apiVersion: "v1", plural: "events")!
    public static let mutatingWebhookConfigurations = lookup(apiVersion: "admissionregistration.k8s.io/v1", plural: "mutatingwebhookconfigurations")!
    public static let deployments = lookup(apiVersion: "apps/v1", plural: "deployments")!
    public static let replicaSets = lookup(apiVersion: "apps/v1", plural: "replicasets")!
    public static let statefulSets = lookup(apiVersion: "apps/v1", plural: "statefulsets")!
}
