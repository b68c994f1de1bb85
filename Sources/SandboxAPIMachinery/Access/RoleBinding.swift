import KubeClient

/// Who a RoleBinding or ClusterRoleBinding grants to: a User, a Group or a ServiceAccount.
public struct Subject: Sendable, Hashable {
    public var kind: String
    public var name: String
    /// A ServiceAccount's namespace; empty means the binding's own.
    public var namespace: String

    public init(kind: String, name: String, namespace: String = "") {
        self.kind = kind
        self.name = name
        self.namespace = namespace
    }

    public init(_ json: JSONValue) {
        self.init(kind: json["kind"]?.stringValue ?? "", name: json["name"]?.stringValue ?? "",
                  namespace: json["namespace"]?.stringValue ?? "")
    }

    /// Whether the subject is `user`. A ServiceAccount without a namespace is the one in the
    /// binding's namespace (`bindingNamespace`, empty for a ClusterRoleBinding: then none).
    public func matches(_ user: UserInfo, bindingNamespace: String) -> Bool {
        switch kind {
        case "User": return user.name == name
        case "Group": return user.groups.contains(name)
        case "ServiceAccount":
            let namespace = self.namespace.isEmpty ? bindingNamespace : self.namespace
            guard !namespace.isEmpty else { return false }
            return user.name == UserInfo.serviceAccountUsername(namespace: namespace, name: name)
        default: return false
        }
    }

    /// How RBAC names the subject in its reasons: `Group "system:masters"`, `ServiceAccount "sa/ns"`.
    func described(bindingNamespace: String) -> String {
        if kind == "ServiceAccount" {
            return "\(kind) \(quoted(name + "/" + (namespace.isEmpty ? bindingNamespace : namespace)))"
        }
        return "\(kind) \(quoted(name))"
    }
}

/// A RoleBinding (namespaced) or ClusterRoleBinding: subjects and the role they get.
public struct RoleBinding: Sendable, Hashable {
    public var name: String
    /// Empty for a ClusterRoleBinding.
    public var namespace: String
    public var subjects: [Subject]
    /// `Role` or `ClusterRole`.
    public var roleKind: String
    public var roleName: String

    public init(name: String, namespace: String = "", subjects: [Subject], roleKind: String, roleName: String) {
        self.name = name
        self.namespace = namespace
        self.subjects = subjects
        self.roleKind = roleKind
        self.roleName = roleName
    }

    public init(_ json: JSONValue) {
        self.init(
            name: json["metadata"]?["name"]?.stringValue ?? "", namespace: json["metadata"]?["namespace"]?.stringValue ?? "",
            subjects: (json["subjects"]?.arrayValue ?? []).map(Subject.init),
            roleKind: json["roleRef"]?["kind"]?.stringValue ?? "", roleName: json["roleRef"]?["name"]?.stringValue ?? "")
    }

    /// The first subject that is `user`.
    func subject(matching user: UserInfo) -> Subject? {
        subjects.first { $0.matches(user, bindingNamespace: namespace) }
    }

    /// How RBAC names the grant in an allowed reason:
    /// `ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"`.
    func described(subject: Subject) -> String {
        if namespace.isEmpty {
            return "ClusterRoleBinding \(quoted(name)) of \(roleKind) \(quoted(roleName)) to \(subject.described(bindingNamespace: ""))"
        }
        return "RoleBinding \(quoted(name + "/" + namespace)) of \(roleKind) \(quoted(roleName)) to \(subject.described(bindingNamespace: namespace))"
    }
}

/// Go's %q for the plain names RBAC quotes.
func quoted(_ text: String) -> String {
    var out = "\""
    for character in text.unicodeScalars {
        switch character {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default: out.unicodeScalars.append(character)
        }
    }
    return out + "\""
}
