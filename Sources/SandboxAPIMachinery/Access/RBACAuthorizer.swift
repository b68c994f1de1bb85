/// The RBAC objects an authorization decision reads. The API server reads them from its store;
/// tests hand in plain values (`RBACObjects`).
public protocol RBACPolicy {
    /// Every ClusterRoleBinding, in a stable order.
    func clusterRoleBindings() -> [RoleBinding]
    /// The RoleBindings of one namespace, in a stable order.
    func roleBindings(namespace: String) -> [RoleBinding]
    /// The rules of a ClusterRole; nil when there is none of that name.
    func clusterRoleRules(_ name: String) -> [PolicyRule]?
    /// The rules of a Role; nil when there is none of that name.
    func roleRules(namespace: String, name: String) -> [PolicyRule]?
}

/// An authorizer's answer: allowed or not, and why (RBAC's own wording, which
/// SelfSubjectAccessReview shows and a 403 appends).
public struct AuthorizationDecision: Sendable, Hashable {
    public var allowed: Bool
    /// `RBAC: allowed by …` when allowed; when denied, the roles a binding named that do not
    /// exist (`RBAC: role.rbac.authorization.k8s.io "x" not found`), otherwise empty.
    public var reason: String

    public init(allowed: Bool, reason: String) {
        self.allowed = allowed
        self.reason = reason
    }
}

/// Kubernetes' RBAC authorizer: a request is allowed when a rule of a role bound to its user
/// allows it. ClusterRoleBindings apply everywhere; the RoleBindings of the request's namespace
/// apply in it (their roleRef is a Role of that namespace or a ClusterRole, granted there only).
/// Nothing is denied explicitly: no rule, no access. A pure function of its inputs.
public enum RBACAuthorizer {
    public static func authorize(_ request: RequestAttributes, policy: some RBACPolicy) -> AuthorizationDecision {
        var missing: [String] = []
        for binding in policy.clusterRoleBindings() {
            guard let subject = binding.subject(matching: request.user) else { continue }
            guard let rules = rules(of: binding, policy: policy, missing: &missing) else { continue }
            if rules.contains(where: { $0.allows(request) }) {
                return AuthorizationDecision(allowed: true, reason: "RBAC: allowed by \(binding.described(subject: subject))")
            }
        }
        if !request.namespace.isEmpty {
            for binding in policy.roleBindings(namespace: request.namespace) {
                guard let subject = binding.subject(matching: request.user) else { continue }
                guard let rules = rules(of: binding, policy: policy, missing: &missing) else { continue }
                if rules.contains(where: { $0.allows(request) }) {
                    return AuthorizationDecision(allowed: true, reason: "RBAC: allowed by \(binding.described(subject: subject))")
                }
            }
        }
        // apimachinery's error aggregate: one error as it is, several in brackets.
        let reason: String
        switch missing.count {
        case 0: reason = ""
        case 1: reason = "RBAC: \(missing[0])"
        default: reason = "RBAC: [\(missing.joined(separator: ", "))]"
        }
        return AuthorizationDecision(allowed: false, reason: reason)
    }

    /// Every rule that applies to `user` in `namespace` (empty: cluster-wide bindings only), as
    /// SelfSubjectRulesReview lists them.
    public static func rules(for user: UserInfo, namespace: String, policy: some RBACPolicy) -> [PolicyRule] {
        var missing: [String] = []
        var result: [PolicyRule] = []
        var bindings = policy.clusterRoleBindings()
        if !namespace.isEmpty { bindings += policy.roleBindings(namespace: namespace) }
        for binding in bindings where binding.subject(matching: user) != nil {
            result += rules(of: binding, policy: policy, missing: &missing) ?? []
        }
        return result
    }

    private static func rules(of binding: RoleBinding, policy: some RBACPolicy, missing: inout [String]) -> [PolicyRule]? {
        switch binding.roleKind {
        case "ClusterRole":
            if let rules = policy.clusterRoleRules(binding.roleName) { return rules }
            missing.append("clusterrole.rbac.authorization.k8s.io \(quoted(binding.roleName)) not found")
        case "Role" where !binding.namespace.isEmpty:
            if let rules = policy.roleRules(namespace: binding.namespace, name: binding.roleName) { return rules }
            missing.append("role.rbac.authorization.k8s.io \(quoted(binding.roleName)) not found")
        default:
            missing.append("unsupported role reference kind: \(quoted(binding.roleKind))")
        }
        return nil
    }
}

/// RBAC objects as plain values: what the authorizer reads, for callers that hold them in
/// memory rather than in a store.
public struct RBACObjects: RBACPolicy, Sendable {
    public var clusterRoles: [String: [PolicyRule]]
    public var roles: [String: [PolicyRule]]  // "namespace/name"
    public var bindings: [RoleBinding]

    public init(clusterRoles: [String: [PolicyRule]] = [:], roles: [String: [PolicyRule]] = [:], bindings: [RoleBinding] = []) {
        self.clusterRoles = clusterRoles
        self.roles = roles
        self.bindings = bindings
    }

    public func clusterRoleBindings() -> [RoleBinding] { bindings.filter { $0.namespace.isEmpty } }
    public func roleBindings(namespace: String) -> [RoleBinding] { bindings.filter { $0.namespace == namespace } }
    public func clusterRoleRules(_ name: String) -> [PolicyRule]? { clusterRoles[name] }
    public func roleRules(namespace: String, name: String) -> [PolicyRule]? { roles["\(namespace)/\(name)"] }
}
