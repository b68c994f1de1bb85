import KubeClient

/// `ValidateRole`, `ValidateClusterRole`, `ValidateRoleBinding` and `ValidateClusterRoleBinding`:
/// every rule has verbs and either resources with API groups or (cluster roles only)
/// non-resource URLs; a binding's roleRef names a Role or ClusterRole of the RBAC group and never
/// changes; each subject is a ServiceAccount (with a namespace, in a cluster binding), User or
/// Group of the right API group.
public enum RBACValidation {
    typealias V = ObjectValidation
    static let group = "rbac.authorization.k8s.io"

    static func errors(_ object: JSONValue, kind: String, old: JSONValue?) -> [FieldError] {
        switch kind {
        case "Role", "ClusterRole":
            return V.items(object["rules"]).enumerated().flatMap { i, rule in
                policyRule(rule, namespaced: kind == "Role", field: "rules[\(i)]")
            }
        default:
            return binding(object, cluster: kind == "ClusterRoleBinding", old: old)
        }
    }

    /// `ValidatePolicyRule`.
    static func policyRule(_ rule: JSONValue, namespaced: Bool, field: String) -> [FieldError] {
        var errors: [FieldError] = []
        if V.strings(rule["verbs"]).isEmpty {
            errors.append(.required(field + ".verbs", "verbs must contain at least one value"))
        }
        let urls = V.strings(rule["nonResourceURLs"])
        if !urls.isEmpty {
            if namespaced {
                errors.append(.invalid(field + ".nonResourceURLs", printed: GoSyntax.stringSlice(urls), "namespaced rules cannot apply to non-resource URLs"))
            }
            if !V.strings(rule["apiGroups"]).isEmpty || !V.strings(rule["resources"]).isEmpty || !V.strings(rule["resourceNames"]).isEmpty {
                errors.append(.invalid(field + ".nonResourceURLs", printed: GoSyntax.stringSlice(urls), "rules cannot apply to both regular resources and non-resource URLs"))
            }
            return errors
        }
        if rule["apiGroups"]?.arrayValue?.isEmpty ?? true {
            errors.append(.required(field + ".apiGroups", "resource rules must supply at least one api group"))
        }
        if V.strings(rule["resources"]).isEmpty {
            errors.append(.required(field + ".resources", "resource rules must supply at least one resource"))
        }
        return errors
    }

    /// `ValidateRoleBinding` / `ValidateClusterRoleBinding` (and their updates).
    static func binding(_ object: JSONValue, cluster: Bool, old: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        let ref = object["roleRef"]
        let apiGroup = V.string(ref?["apiGroup"])
        if apiGroup != group { errors.append(.notSupported("roleRef.apiGroup", apiGroup, [group])) }
        let kind = V.string(ref?["kind"])
        let kinds = cluster ? ["ClusterRole"] : ["Role", "ClusterRole"]
        if !kinds.contains(kind) { errors.append(.notSupported("roleRef.kind", kind, kinds)) }
        let name = V.string(ref?["name"])
        if name.isEmpty {
            errors.append(.required("roleRef.name"))
        } else {
            errors += NameValidation.isValidPathSegmentName(name).map { .invalid("roleRef.name", name, $0) }
        }
        for (i, subject) in V.items(object["subjects"]).enumerated() {
            errors += self.subject(subject, namespaced: !cluster, field: "subjects[\(i)]")
        }
        if let oldRef = old?["roleRef"], oldRef != ref {
            errors.append(.invalid("roleRef", printed: "rbac.RoleRef{APIGroup:\(GoQuote.quote(apiGroup)), Kind:\(GoQuote.quote(kind)), Name:\(GoQuote.quote(name))}",
                                   "cannot change roleRef"))
        }
        return errors
    }

    /// `ValidateRoleBindingSubject`.
    static func subject(_ subject: JSONValue, namespaced: Bool, field: String) -> [FieldError] {
        var errors: [FieldError] = []
        let name = V.string(subject["name"])
        if name.isEmpty { errors.append(.required(field + ".name")) }
        let apiGroup = V.string(subject["apiGroup"])
        switch V.string(subject["kind"]) {
        case "ServiceAccount":
            if !name.isEmpty {
                errors += NameValidation.isDNS1123Subdomain(name).map { .invalid(field + ".name", name, $0) }
            }
            if !apiGroup.isEmpty { errors.append(.notSupported(field + ".apiGroup", apiGroup, [""])) }
            if !namespaced && V.string(subject["namespace"]).isEmpty { errors.append(.required(field + ".namespace")) }
        case "User", "Group":
            if apiGroup != group { errors.append(.notSupported(field + ".apiGroup", apiGroup, [group])) }
        default:
            errors.append(.notSupported(field + ".kind", V.string(subject["kind"]), ["ServiceAccount", "User", "Group"]))
        }
        return errors
    }
}
