/// Who a request acts as, as Kubernetes' authenticators describe a user: a name, a uid, groups
/// and extra attributes. RBAC matches subjects against the name and the groups.
public struct UserInfo: Sendable, Hashable {
    public var name: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]

    public init(name: String, uid: String = "", groups: [String] = [], extra: [String: [String]] = [:]) {
        self.name = name
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }

    /// The group whose members may do anything (bound to `cluster-admin` at bootstrap).
    public static let mastersGroup = "system:masters"
    /// Every authenticated request is in this group.
    public static let authenticatedGroup = "system:authenticated"
    public static let unauthenticatedGroup = "system:unauthenticated"
    public static let anonymousName = "system:anonymous"
    public static let serviceAccountsGroup = "system:serviceaccounts"
    static let serviceAccountPrefix = "system:serviceaccount:"

    /// The request without credentials (`system:anonymous`, `system:unauthenticated`).
    public static let anonymous = UserInfo(name: anonymousName, groups: [unauthenticatedGroup])

    /// The user a service account's token authenticates as:
    /// `system:serviceaccount:NS:NAME` in `system:serviceaccounts`, `system:serviceaccounts:NS`
    /// and `system:authenticated`.
    public static func serviceAccount(namespace: String, name: String, uid: String = "", extra: [String: [String]] = [:]) -> UserInfo {
        UserInfo(name: serviceAccountUsername(namespace: namespace, name: name), uid: uid,
                 groups: serviceAccountGroups(namespace: namespace) + [authenticatedGroup], extra: extra)
    }

    public static func serviceAccountUsername(namespace: String, name: String) -> String {
        serviceAccountPrefix + namespace + ":" + name
    }

    /// The groups every service account of `namespace` is in (without `system:authenticated`).
    public static func serviceAccountGroups(namespace: String) -> [String] {
        [serviceAccountsGroup, "\(serviceAccountsGroup):\(namespace)"]
    }

    /// The namespace and name of a `system:serviceaccount:NS:NAME` user name; nil for others.
    public static func serviceAccountName(of username: String) -> (namespace: String, name: String)? {
        guard username.hasPrefix(serviceAccountPrefix) else { return nil }
        let parts = username.dropFirst(serviceAccountPrefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// The groups with `system:authenticated` added, as the authenticators add it to every
    /// authenticated user (once).
    func authenticated() -> UserInfo {
        var user = self
        if !user.groups.contains(Self.authenticatedGroup) { user.groups.append(Self.authenticatedGroup) }
        return user
    }
}
