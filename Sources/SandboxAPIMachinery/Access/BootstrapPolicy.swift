import KubeClient

/// The ClusterRoles and ClusterRoleBindings a real API server creates at start-up (its RBAC
/// bootstrap policy), limited to the ones users meet: `cluster-admin` bound to
/// `system:masters`, discovery, health and self-review for every authenticated user, health and
/// version for everyone, and the user-facing `admin`, `edit` and `view` with their
/// `system:aggregate-to-*` parts. The sandbox runs no aggregation controller, so `admin`, `edit`
/// and `view` carry their aggregated rules already (as a real cluster shows them).
public enum BootstrapPolicy {
    static let read = ["get", "list", "watch"]
    static let write = ["create", "update", "patch", "delete", "deletecollection"]
    static let readWrite = read + write

    static func rule(_ verbs: [String], _ group: String, _ resources: [String], names: [String] = []) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: [group], resources: resources, resourceNames: names)
    }

    static let discoveryURLs = ["/livez", "/readyz", "/healthz", "/version", "/version/", "/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"]
    static let publicInfoURLs = ["/livez", "/readyz", "/healthz", "/version", "/version/"]

    static let aggregateToView: [PolicyRule] = [
        rule(read, "", ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status",
                        "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]),
        rule(read, "", ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status",
                        "namespaces/status", "replicationcontrollers/status", "pods/log"]),
        // Read access to namespaces in a namespace means this namespace: a hint of where one has access.
        rule(read, "", ["namespaces"]),
        rule(read, "apps", ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets", "daemonsets/status",
                            "deployments", "deployments/status", "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale"]),
        rule(read, "autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
        rule(read, "batch", ["jobs", "cronjobs", "cronjobs/status", "jobs/status"]),
        rule(read, "policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(read, "networking.k8s.io", ["networkpolicies", "ingresses", "ingresses/status"]),
    ]

    static let aggregateToEdit: [PolicyRule] = [
        // Read on escalating resources: what exec, attach and port-forward need besides create.
        rule(read, "", ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
        rule(["impersonate"], "", ["serviceaccounts"]),
        rule(write, "", ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
        rule(write, "", ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy",
                         "endpoints", "persistentvolumeclaims", "configmaps", "secrets"]),
        rule(write, "apps", ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale", "deployments/rollback",
                             "replicasets", "replicasets/scale"]),
        rule(write, "autoscaling", ["horizontalpodautoscalers"]),
        rule(write, "batch", ["jobs", "cronjobs"]),
        rule(write, "policy", ["poddisruptionbudgets"]),
        rule(write, "networking.k8s.io", ["networkpolicies", "ingresses"]),
    ]

    static let aggregateToAdmin: [PolicyRule] = [
        rule(["create"], "authorization.k8s.io", ["localsubjectaccessreviews"]),
        rule(readWrite, "rbac.authorization.k8s.io", ["roles", "rolebindings"]),
    ]

    /// Name, rules, the aggregation label it carries and the label it aggregates (if any).
    static let clusterRoleTable: [(name: String, rules: [PolicyRule], label: String?, aggregates: String?)] = [
        ("cluster-admin", [PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]), PolicyRule(verbs: ["*"], nonResourceURLs: ["*"])], nil, nil),
        ("system:discovery", [PolicyRule(verbs: ["get"], nonResourceURLs: discoveryURLs)], nil, nil),
        ("system:basic-user", [
            rule(["create"], "authorization.k8s.io", ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], "authentication.k8s.io", ["selfsubjectreviews"]),
        ], nil, nil),
        ("system:public-info-viewer", [PolicyRule(verbs: ["get"], nonResourceURLs: publicInfoURLs)], nil, nil),
        ("admin", aggregateToAdmin + aggregateToEdit + aggregateToView, nil, "aggregate-to-admin"),
        ("edit", aggregateToEdit + aggregateToView, "aggregate-to-admin", "aggregate-to-edit"),
        ("view", aggregateToView, "aggregate-to-edit", "aggregate-to-view"),
        ("system:aggregate-to-admin", aggregateToAdmin, "aggregate-to-admin", nil),
        ("system:aggregate-to-edit", aggregateToEdit, "aggregate-to-edit", nil),
        ("system:aggregate-to-view", aggregateToView, "aggregate-to-view", nil),
    ]

    /// Binding name (= role name) and the groups it binds.
    static let bindingTable: [(name: String, groups: [String])] = [
        ("cluster-admin", [UserInfo.mastersGroup]),
        ("system:discovery", [UserInfo.authenticatedGroup]),
        ("system:basic-user", [UserInfo.authenticatedGroup]),
        ("system:public-info-viewer", [UserInfo.authenticatedGroup, UserInfo.unauthenticatedGroup]),
    ]

    static func metadata(_ name: String, label: String?) -> JSONValue {
        var labels: [String: JSONValue] = ["kubernetes.io/bootstrapping": "rbac-defaults"]
        if let label { labels["rbac.authorization.k8s.io/\(label)"] = "true" }
        return ["name": .string(name), "labels": .object(labels),
                "annotations": ["rbac.authorization.kubernetes.io/autoupdate": "true"]]
    }

    /// The ClusterRole objects, as stored.
    public static var clusterRoles: [JSONValue] {
        clusterRoleTable.map { entry in
            var role: JSONValue = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": metadata(entry.name, label: entry.label), "rules": .array(entry.rules.map(\.json)),
            ]
            if let aggregates = entry.aggregates {
                role["aggregationRule"] = ["clusterRoleSelectors": [["matchLabels": .object(["rbac.authorization.k8s.io/\(aggregates)": "true"])]]]
            }
            return role
        }
    }

    /// The ClusterRoleBinding objects, as stored.
    public static var clusterRoleBindings: [JSONValue] {
        bindingTable.map { entry in
            [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": metadata(entry.name, label: nil),
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(entry.name)],
                "subjects": .array(entry.groups.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string($0)] }),
            ]
        }
    }

    /// The same policy as plain values, for the authorizer without a store.
    public static var objects: RBACObjects {
        RBACObjects(
            clusterRoles: Dictionary(uniqueKeysWithValues: clusterRoleTable.map { ($0.name, $0.rules) }),
            bindings: clusterRoleBindings.map(RoleBinding.init))
    }
}
