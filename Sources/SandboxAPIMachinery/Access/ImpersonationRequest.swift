import Foundation

/// The `Impersonate-*` headers of a request (kubectl's `--as`, `--as-group`, `--as-uid`): who the
/// requester wants to act as, the checks that decide whether it may (one `impersonate` request
/// per user, service account, group, uid and extra value, in that order, as the real server
/// makes them), and the user the request then runs as.
public struct ImpersonationRequest: Sendable, Hashable {
    public var user: String
    public var groups: [String]
    public var uid: String?
    /// Extra keys (lowercased, percent-decoded) and values.
    public var extra: [String: [String]]

    /// nil when the request impersonates no one. Throws when it asks for groups, a uid or extras
    /// without a user (the real server refuses that too).
    public init?(headers: [(name: String, value: String)]) throws(ImpersonationError) {
        var user: String?
        var groups: [String] = []
        var uid: String?
        var extra: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower == "impersonate-user" {
                user = value
            } else if lower == "impersonate-group" {
                groups.append(value)
            } else if lower == "impersonate-uid" {
                uid = value
            } else if lower.hasPrefix("impersonate-extra-") {
                let key = String(lower.dropFirst("impersonate-extra-".count))
                extra[key.removingPercentEncodingIfValid, default: []].append(value)
            }
        }
        guard let user else {
            if groups.isEmpty, uid == nil, extra.isEmpty { return nil }
            throw ImpersonationError(message: "requested impersonation of groups, a uid or extras without impersonating a user")
        }
        self.user = user
        self.groups = groups
        self.uid = uid
        self.extra = extra
    }

    /// What the requester must be allowed (`impersonate`) for the request to go on.
    public func checks(requester: UserInfo) -> [RequestAttributes] {
        var checks: [RequestAttributes] = []
        if let account = UserInfo.serviceAccountName(of: user) {
            checks.append(RequestAttributes(user: requester, verb: "impersonate", namespace: account.namespace,
                                            resource: "serviceaccounts", name: account.name))
        } else {
            checks.append(RequestAttributes(user: requester, verb: "impersonate", resource: "users", name: user))
        }
        for group in groups {
            checks.append(RequestAttributes(user: requester, verb: "impersonate", resource: "groups", name: group))
        }
        for key in extra.keys.sorted() {
            for value in extra[key] ?? [] {
                checks.append(RequestAttributes(user: requester, verb: "impersonate", apiGroup: "authentication.k8s.io",
                                                resource: "userextras", subresource: key, name: value))
            }
        }
        if let uid {
            checks.append(RequestAttributes(user: requester, verb: "impersonate", apiGroup: "authentication.k8s.io",
                                            resource: "uids", name: uid))
        }
        return checks
    }

    /// The user the request runs as once every check passed: a service account without groups
    /// asked for gets its own; everyone but `system:anonymous` is in `system:authenticated`
    /// unless the groups name it or `system:unauthenticated` already.
    public var impersonated: UserInfo {
        var groups = self.groups
        if groups.isEmpty, let account = UserInfo.serviceAccountName(of: user) {
            groups = UserInfo.serviceAccountGroups(namespace: account.namespace)
        }
        if user == UserInfo.anonymousName {
            if !groups.contains(UserInfo.unauthenticatedGroup) { groups.append(UserInfo.unauthenticatedGroup) }
        } else if !groups.contains(UserInfo.authenticatedGroup), !groups.contains(UserInfo.unauthenticatedGroup) {
            groups.append(UserInfo.authenticatedGroup)
        }
        return UserInfo(name: user, uid: uid ?? "", groups: groups, extra: extra)
    }
}

public struct ImpersonationError: Error, Sendable, Hashable {
    public var message: String
}

extension String {
    var removingPercentEncodingIfValid: String { removingPercentEncoding ?? self }
}
