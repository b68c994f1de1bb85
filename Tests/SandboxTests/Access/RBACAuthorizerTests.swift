import KubeClient
import Testing

@testable import SandboxAPIMachinery

/// The RBAC authorizer as a function of a request and RBAC objects: rules, wildcards,
/// resourceNames, subresources, non-resource URLs, bindings and their subjects, the default
/// policy, and the reasons it gives.
@Suite struct RBACAuthorizerTests {
    static let alice = UserInfo(name: "alice", groups: ["dev", UserInfo.authenticatedGroup])

    static func pods(_ verb: String, _ namespace: String = "demo", name: String = "", subresource: String = "", user: UserInfo = alice) -> RequestAttributes {
        RequestAttributes(user: user, verb: verb, namespace: namespace, resource: "pods", subresource: subresource, name: name)
    }

    /// A Role `reader` in demo with `rules`, bound to alice.
    static func policy(_ rules: [PolicyRule], subject: Subject = Subject(kind: "User", name: "alice")) -> RBACObjects {
        var objects = BootstrapPolicy.objects
        objects.roles["demo/reader"] = rules
        objects.bindings.append(RoleBinding(name: "read", namespace: "demo", subjects: [subject], roleKind: "Role", roleName: "reader"))
        return objects
    }

    @Test func aRoleGrantsItsVerbsInItsNamespaceOnly() {
        let policy = Self.policy([PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods"])])
        #expect(RBACAuthorizer.authorize(Self.pods("list"), policy: policy).allowed)
        #expect(RBACAuthorizer.authorize(Self.pods("get", name: "web"), policy: policy).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("delete", name: "web"), policy: policy).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("list", "default"), policy: policy).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("list", ""), policy: policy).allowed, "a RoleBinding grants nothing cluster-wide")
        let deployments = RequestAttributes(user: Self.alice, verb: "list", apiGroup: "apps", namespace: "demo", resource: "deployments")
        #expect(!RBACAuthorizer.authorize(deployments, policy: policy).allowed, "another group's resource")
    }

    @Test func theAllowedReasonNamesTheBindingRoleAndSubject() {
        let policy = Self.policy([PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"])])
        #expect(RBACAuthorizer.authorize(Self.pods("list"), policy: policy).reason
                == #"RBAC: allowed by RoleBinding "read/demo" of Role "reader" to User "alice""#)
        let admin = UserInfo(name: "kubernetes-admin", groups: [UserInfo.mastersGroup, UserInfo.authenticatedGroup])
        #expect(RBACAuthorizer.authorize(Self.pods("delete", user: admin), policy: policy).reason
                == #"RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters""#)
    }

    @Test func wildcardsMatchEveryVerbGroupAndResource() {
        let policy = Self.policy([PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"])])
        let scale = RequestAttributes(user: Self.alice, verb: "patch", apiGroup: "apps", namespace: "demo", resource: "deployments", subresource: "scale", name: "web")
        #expect(RBACAuthorizer.authorize(scale, policy: policy).allowed)
        #expect(RBACAuthorizer.authorize(Self.pods("create", name: "web", subresource: "exec"), policy: policy).allowed)
    }

    @Test func subresourcesNeedTheirOwnRuleOrStarSlash() {
        let plain = Self.policy([PolicyRule(verbs: ["*"], apiGroups: [""], resources: ["pods"])])
        #expect(!RBACAuthorizer.authorize(Self.pods("get", name: "web", subresource: "log"), policy: plain).allowed,
                "pods does not cover pods/log")
        let logs = Self.policy([PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods/log"])])
        #expect(RBACAuthorizer.authorize(Self.pods("get", name: "web", subresource: "log"), policy: logs).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("get", name: "web"), policy: logs).allowed, "pods/log does not cover pods")
        let anyExec = Self.policy([PolicyRule(verbs: ["create"], apiGroups: [""], resources: ["*/exec"])])
        #expect(RBACAuthorizer.authorize(Self.pods("create", name: "web", subresource: "exec"), policy: anyExec).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("create", name: "web", subresource: "portforward"), policy: anyExec).allowed)
    }

    @Test func resourceNamesLimitToNamedObjects() {
        let policy = Self.policy([PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods"], resourceNames: ["web"])])
        #expect(RBACAuthorizer.authorize(Self.pods("get", name: "web"), policy: policy).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("get", name: "db"), policy: policy).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("list"), policy: policy).allowed, "a list names no object")
        #expect(RBACAuthorizer.authorize(Self.pods("list", name: "web"), policy: policy).allowed, "a list pinned to the name")
    }

    @Test func subjectsMatchByUserGroupAndServiceAccount() {
        let rules = [PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"])]
        #expect(RBACAuthorizer.authorize(Self.pods("list"), policy: Self.policy(rules, subject: Subject(kind: "Group", name: "dev"))).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("list"), policy: Self.policy(rules, subject: Subject(kind: "User", name: "bob"))).allowed)
        let robot = UserInfo.serviceAccount(namespace: "demo", name: "robot")
        let sameNamespace = Self.policy(rules, subject: Subject(kind: "ServiceAccount", name: "robot"))
        #expect(RBACAuthorizer.authorize(Self.pods("list", user: robot), policy: sameNamespace).allowed,
                "a ServiceAccount subject without a namespace is the binding's")
        #expect(RBACAuthorizer.authorize(Self.pods("list", user: robot), policy: sameNamespace).reason
                == #"RBAC: allowed by RoleBinding "read/demo" of Role "reader" to ServiceAccount "robot/demo""#)
        let other = UserInfo.serviceAccount(namespace: "other", name: "robot")
        #expect(!RBACAuthorizer.authorize(Self.pods("list", user: other), policy: sameNamespace).allowed)
        let allAccounts = Self.policy(rules, subject: Subject(kind: "Group", name: "system:serviceaccounts:other"))
        #expect(!RBACAuthorizer.authorize(Self.pods("list", user: robot), policy: allAccounts).allowed)
        #expect(robot.groups == ["system:serviceaccounts", "system:serviceaccounts:demo", "system:authenticated"])
    }

    @Test func aRoleBindingMayGrantAClusterRoleInItsNamespace() {
        var objects = BootstrapPolicy.objects
        objects.bindings.append(RoleBinding(name: "viewers", namespace: "demo", subjects: [Subject(kind: "User", name: "alice")],
                                            roleKind: "ClusterRole", roleName: "view"))
        #expect(RBACAuthorizer.authorize(Self.pods("list"), policy: objects).allowed)
        #expect(RBACAuthorizer.authorize(Self.pods("get", name: "web", subresource: "log"), policy: objects).allowed)
        #expect(!RBACAuthorizer.authorize(Self.pods("delete", name: "web"), policy: objects).allowed, "view cannot delete")
        #expect(!RBACAuthorizer.authorize(Self.pods("list", "default"), policy: objects).allowed)
        let secrets = RequestAttributes(user: Self.alice, verb: "get", namespace: "demo", resource: "secrets", name: "s")
        #expect(!RBACAuthorizer.authorize(secrets, policy: objects).allowed, "view does not read secrets")
    }

    @Test func theDefaultRolesGrantWhatARealClusterGrants() {
        var objects = BootstrapPolicy.objects
        objects.bindings.append(RoleBinding(name: "e", namespace: "demo", subjects: [Subject(kind: "User", name: "alice")], roleKind: "ClusterRole", roleName: "edit"))
        objects.bindings.append(RoleBinding(name: "a", namespace: "ops", subjects: [Subject(kind: "User", name: "alice")], roleKind: "ClusterRole", roleName: "admin"))
        func allowed(_ verb: String, _ group: String, _ resource: String, _ subresource: String = "", in namespace: String = "demo") -> Bool {
            RBACAuthorizer.authorize(RequestAttributes(user: Self.alice, verb: verb, apiGroup: group, namespace: namespace, resource: resource, subresource: subresource, name: "x"), policy: objects).allowed
        }
        #expect(allowed("create", "", "pods", "exec") && allowed("get", "", "pods", "exec") && allowed("create", "", "pods", "portforward"))
        #expect(allowed("update", "apps", "deployments") && allowed("patch", "apps", "deployments", "scale") && allowed("get", "", "secrets"))
        #expect(!allowed("create", "rbac.authorization.k8s.io", "rolebindings"), "edit cannot grant")
        #expect(allowed("create", "rbac.authorization.k8s.io", "rolebindings", in: "ops"), "admin can")
        #expect(!allowed("update", "", "pods", "status"), "status is the system's")
        #expect(allowed("impersonate", "", "serviceaccounts"))
        // Every authenticated user: discovery, health, self-reviews; anonymous: health only.
        let discovery = RequestAttributes(user: Self.alice, verb: "get", path: "/apis/apps/v1")
        #expect(RBACAuthorizer.authorize(discovery, policy: objects).allowed)
        let review = RequestAttributes(user: Self.alice, verb: "create", apiGroup: "authorization.k8s.io", resource: "selfsubjectaccessreviews")
        #expect(RBACAuthorizer.authorize(review, policy: objects).allowed)
        #expect(RBACAuthorizer.authorize(RequestAttributes(user: .anonymous, verb: "get", path: "/healthz"), policy: objects).allowed)
        #expect(!RBACAuthorizer.authorize(RequestAttributes(user: .anonymous, verb: "get", path: "/api"), policy: objects).allowed)
        #expect(!RBACAuthorizer.authorize(RequestAttributes(user: Self.alice, verb: "post", path: "/healthz"), policy: objects).allowed)
    }

    @Test func nonResourceURLsMatchExactlyOrByTrailingStar() {
        let rule = PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/logs/*"])
        #expect(rule.allows(RequestAttributes(user: Self.alice, verb: "get", path: "/healthz")))
        #expect(!rule.allows(RequestAttributes(user: Self.alice, verb: "get", path: "/healthz/etcd")))
        #expect(rule.allows(RequestAttributes(user: Self.alice, verb: "get", path: "/logs/kube/x")))
        #expect(!rule.allows(Self.pods("get")), "a non-resource rule allows no resource")
        #expect(!PolicyRule(verbs: ["get"], apiGroups: ["*"], resources: ["*"]).allows(RequestAttributes(user: Self.alice, verb: "get", path: "/healthz")))
    }

    @Test func aBindingToAMissingRoleIsTheDenialsReason() {
        var objects = RBACObjects()
        objects.bindings = [
            RoleBinding(name: "gone", namespace: "demo", subjects: [Subject(kind: "User", name: "alice")], roleKind: "Role", roleName: "missing"),
        ]
        let decision = RBACAuthorizer.authorize(Self.pods("list"), policy: objects)
        #expect(!decision.allowed)
        #expect(decision.reason == #"RBAC: role.rbac.authorization.k8s.io "missing" not found"#)
        objects.bindings.append(RoleBinding(name: "gone2", subjects: [Subject(kind: "Group", name: "dev")], roleKind: "ClusterRole", roleName: "nope"))
        #expect(RBACAuthorizer.authorize(Self.pods("list"), policy: objects).reason
                == #"RBAC: [clusterrole.rbac.authorization.k8s.io "nope" not found, role.rbac.authorization.k8s.io "missing" not found]"#)
    }

    @Test func forbiddenMessagesAreTheRealServers() {
        #expect(Forbidden(Self.pods("list")).message
                == #"pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "demo""#)
        #expect(Forbidden(Self.pods("create", name: "web", subresource: "exec")).message
                == #"pods "web" is forbidden: User "alice" cannot create resource "pods/exec" in API group "" in the namespace "demo""#)
        let nodes = RequestAttributes(user: Self.alice, verb: "list", resource: "nodes")
        #expect(Forbidden(nodes).message == #"nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope"#)
        let deployment = RequestAttributes(user: Self.alice, verb: "get", apiGroup: "apps", namespace: "demo", resource: "deployments", name: "web")
        let forbidden = Forbidden(deployment, reason: #"RBAC: role.rbac.authorization.k8s.io "x" not found"#)
        #expect(forbidden.message == #"deployments.apps "web" is forbidden: User "alice" cannot get resource "deployments" in API group "apps" in the namespace "demo": RBAC: role.rbac.authorization.k8s.io "x" not found"#)
        #expect(forbidden.group == "apps" && forbidden.kind == "deployments" && forbidden.name == "web")
        #expect(Forbidden(RequestAttributes(user: Self.alice, verb: "get", path: "/metrics")).message
                == #"forbidden: User "alice" cannot get path "/metrics""#)
    }

    @Test func rulesForAUserListWhatItsBindingsGrant() {
        let policy = Self.policy([PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"])])
        let rules = RBACAuthorizer.rules(for: Self.alice, namespace: "demo", policy: policy)
        #expect(rules.contains(PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["pods"])))
        #expect(rules.contains { $0.nonResourceURLs.contains("/api/*") })
        #expect(!RBACAuthorizer.rules(for: Self.alice, namespace: "default", policy: policy).contains { $0.resources == ["pods"] })
    }

    @Test func theBootstrapObjectsParseBackToThePolicy() {
        let roles = BootstrapPolicy.clusterRoles
        #expect(roles.count == BootstrapPolicy.objects.clusterRoles.count)
        for role in roles {
            let name = role["metadata"]?["name"]?.stringValue ?? ""
            #expect((role["rules"]?.arrayValue ?? []).map(PolicyRule.init) == BootstrapPolicy.objects.clusterRoles[name], "\(name)")
        }
        let edit = roles.first { $0["metadata"]?["name"] == "edit" }
        #expect(edit?["aggregationRule"]?["clusterRoleSelectors"]?[0]?["matchLabels"]?["rbac.authorization.k8s.io/aggregate-to-edit"] == "true")
    }
}
