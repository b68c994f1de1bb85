import Foundation
import KubeClient
import NIOHTTP1
import SandboxAPIMachinery

/// Every request's way in: who sent it (`Authenticator`: client certificate, bootstrap token or
/// service-account token, the last checked against the store each time), whom it acts as
/// (`Impersonate-*` headers, each allowed by RBAC first), and whether that user may do what it
/// asks (`RBACAuthorizer` over the Roles, ClusterRoles and bindings in the store). The one place
/// the server reaches the pure access rules of `SandboxAPIMachinery`.
extension KubernetesAPI {
    /// Authenticates, impersonates and authorizes `request`, leaving its user and attributes on
    /// it. Throws 401 for bad credentials and for anonymous requests the public-info role does
    /// not cover (health and version), 403 with Kubernetes' message otherwise.
    ///
    /// - Parameter verb: the verb to check instead of the method's (a stream upgrade is `create`).
    func admit(_ request: inout APIRequest, verb: String? = nil) throws(APIError) {
        let requester = try authenticatedUser(request)
        let user = try impersonate(request, requester: requester)
        var attributes = RequestAttributes(user: user, method: request.method.rawValue, path: request.path, query: request.query)
        if let verb { attributes.verb = verb }
        request.userInfo = user
        let decision = authorize(attributes)
        guard decision.allowed else {
            // Anonymous access reaches only what system:public-info-viewer grants (health and
            // version, like a cluster that limits anonymous auth to those endpoints).
            if requester == .anonymous { throw APIError.unauthorized }
            let forbidden = Forbidden(attributes, reason: decision.reason)
            denials.record(attributes, message: forbidden.message)
            throw APIError.forbidden(forbidden)
        }
    }

    func authorize(_ attributes: RequestAttributes) -> AuthorizationDecision {
        RBACAuthorizer.authorize(attributes, policy: StoreRBACPolicy(store: store))
    }

    /// The user the credentials prove (anonymous without any).
    func authenticatedUser(_ request: APIRequest) throws(APIError) -> UserInfo {
        // Only bearer tokens are credentials here; another scheme or an empty token proves
        // nothing, as with the real server's token authenticator (then the request is anonymous).
        var bearer: String?
        if let header = request.headers.first(name: "authorization") {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingCharacters(in: .whitespaces)
                if !token.isEmpty { bearer = token }
            }
        }
        let certificate = request.user.isEmpty ? nil : CertificateSubject(commonName: request.user, organizations: request.groups)
        switch authenticate(certificate: certificate, bearerToken: bearer) {
        case .user(let user): return user
        case .anonymous: return .anonymous
        case .rejected: throw APIError.unauthorized
        }
    }

    func authenticate(certificate: CertificateSubject?, bearerToken: String?) -> Authentication {
        authenticator.authenticate(certificate: certificate, bearerToken: bearerToken, now: Int(Date().timeIntervalSince1970)) {
            kind, namespace, name in
            let type: ResourceType
            switch kind {
            case "ServiceAccount": type = ResourceCatalog.serviceAccounts
            case "Pod": type = ResourceCatalog.pods
            case "Secret": type = ResourceCatalog.lookup(apiVersion: "v1", plural: "secrets")!
            default: return nil
            }
            guard let object = store.get(type, namespace: namespace, name: name) else { return nil }
            // A pod or secret on its way out no longer vouches for a token.
            if kind != "ServiceAccount", object.value["metadata"]?["deletionTimestamp"] != nil { return nil }
            return object.uid
        }
    }

    /// The user named by the `Impersonate-*` headers, once the requester may impersonate each
    /// part of it; the requester itself without them.
    func impersonate(_ request: APIRequest, requester: UserInfo) throws(APIError) -> UserInfo {
        let impersonation: ImpersonationRequest?
        do throws(ImpersonationError) {
            impersonation = try ImpersonationRequest(headers: request.headers.map { ($0.name, $0.value) })
        } catch {
            // The real server answers this one with an internal error too.
            throw APIError(code: 500, reason: "InternalError", message: "Internal Server Error: \"\(request.path)\": \(error.message)")
        }
        guard let impersonation else { return requester }
        if requester == .anonymous { throw APIError.unauthorized }
        for check in impersonation.checks(requester: requester) {
            let decision = authorize(check)
            if !decision.allowed { throw APIError.forbidden(Forbidden(check, reason: decision.reason)) }
        }
        return impersonation.impersonated
    }

    /// A token for `serviceAccount`, signed by this server (see `TokenRequests.swift`).
    func issueToken(namespace: String, serviceAccount: StoredObject, lifetime: Int, audiences: [String]? = nil,
                    boundObject: ServiceAccountTokenClaims.BoundObject? = nil) -> (token: String, expiresAt: Int) {
        let now = Int(Date().timeIntervalSince1970)
        var claims = ServiceAccountTokenClaims(
            issuedAt: now, expiresAt: now + lifetime, id: UUID().uuidString.lowercased(), namespace: namespace,
            serviceAccountName: serviceAccount.name, serviceAccountUID: serviceAccount.uid, boundObject: boundObject)
        if let audiences, !audiences.isEmpty { claims.audiences = audiences }
        return (authenticator.signer.sign(claims), claims.expiresAt)
    }

    /// The token the node mounts into `pod` (its projected service-account volume): bound to the
    /// pod and its service account, valid for a year as the real server extends the kubelet's
    /// tokens (the node writes it once and does not rotate it). Empty when the service account
    /// does not exist (the pod then has nothing to authenticate with).
    package func podServiceAccountToken(_ pod: JSONValue) -> String {
        let namespace = pod["metadata"]?["namespace"]?.stringValue ?? "default"
        let accountName = pod["spec"]?["serviceAccountName"]?.stringValue ?? "default"
        guard let account = store.get(ResourceCatalog.serviceAccounts, namespace: namespace, name: accountName) else { return "" }
        let bound = ServiceAccountTokenClaims.BoundObject(
            kind: "Pod", name: pod["metadata"]?["name"]?.stringValue ?? "", uid: pod["metadata"]?["uid"]?.stringValue ?? "")
        return issueToken(namespace: namespace, serviceAccount: account, lifetime: 365 * 24 * 3600, boundObject: bound).token
    }
}

/// The RBAC objects of the store, as the authorizer reads them on every request.
struct StoreRBACPolicy: RBACPolicy {
    let store: ObjectStore

    static let roles = ResourceCatalog.lookup(apiVersion: "rbac.authorization.k8s.io/v1", plural: "roles")!
    static let roleBindings = ResourceCatalog.lookup(apiVersion: "rbac.authorization.k8s.io/v1", plural: "rolebindings")!
    static let clusterRoles = ResourceCatalog.lookup(apiVersion: "rbac.authorization.k8s.io/v1", plural: "clusterroles")!
    static let clusterRoleBindings = ResourceCatalog.lookup(apiVersion: "rbac.authorization.k8s.io/v1", plural: "clusterrolebindings")!

    func clusterRoleBindings() -> [RoleBinding] {
        store.list(Self.clusterRoleBindings, namespace: nil).items.map { RoleBinding($0.object.value) }
    }

    func roleBindings(namespace: String) -> [RoleBinding] {
        store.list(Self.roleBindings, namespace: namespace).items.map { RoleBinding($0.object.value) }
    }

    func clusterRoleRules(_ name: String) -> [PolicyRule]? {
        store.get(Self.clusterRoles, namespace: "", name: name).map(Self.rules)
    }

    func roleRules(namespace: String, name: String) -> [PolicyRule]? {
        store.get(Self.roles, namespace: namespace, name: name).map(Self.rules)
    }

    static func rules(_ object: StoredObject) -> [PolicyRule] {
        (object.value["rules"]?.arrayValue ?? []).map(PolicyRule.init)
    }
}

extension APIError {
    /// 403 `Forbidden` with the authorizer's message and details.
    static func forbidden(_ forbidden: Forbidden) -> APIError {
        var details: JSONValue = [:]
        if !forbidden.kind.isEmpty { details["kind"] = .string(forbidden.kind) }
        if !forbidden.name.isEmpty { details["name"] = .string(forbidden.name) }
        if !forbidden.group.isEmpty { details["group"] = .string(forbidden.group) }
        return APIError(code: 403, reason: "Forbidden", message: forbidden.message, details: details)
    }
}
