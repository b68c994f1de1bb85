/// The verified subject of a client certificate: its common name and organizations.
public struct CertificateSubject: Sendable, Hashable {
    public var commonName: String
    public var organizations: [String]

    public init(commonName: String, organizations: [String]) {
        self.commonName = commonName
        self.organizations = organizations
    }
}

/// What a request's credentials make of it.
public enum Authentication: Sendable, Hashable {
    /// A known user (`system:authenticated` among its groups).
    case user(UserInfo)
    /// No credentials at all.
    case anonymous
    /// Credentials that prove nothing (a wrong or expired token): 401, whatever the path.
    case rejected(reason: String)
}

/// The sandbox's authenticators in the real server's order: a client certificate signed by the
/// cluster CA (common name as user, organizations as groups), then a bearer token, either the
/// bootstrap admin token (`kubernetes-admin` in `system:masters`) or a service-account token,
/// which is valid only while it is unexpired and the service account (and the pod or secret it
/// is bound to) still exists with the uid the token names. Pure: the caller passes the time and
/// a way to look objects' uids up.
public struct Authenticator: Sendable {
    /// The user of the bootstrap token (as kubeadm names its admin).
    public static let adminName = "kubernetes-admin"

    public let bootstrapToken: String
    public let signer: ServiceAccountTokenSigner

    public init(bootstrapToken: String, signer: ServiceAccountTokenSigner) {
        self.bootstrapToken = bootstrapToken
        self.signer = signer
    }

    public static var admin: UserInfo {
        UserInfo(name: adminName, groups: [UserInfo.mastersGroup, UserInfo.authenticatedGroup])
    }

    /// - Parameters:
    ///   - now: seconds since 1970.
    ///   - uid: the uid of the object of that kind (`ServiceAccount`, `Pod`, `Secret`), namespace
    ///     and name, nil when there is none.
    public func authenticate(
        certificate: CertificateSubject?, bearerToken: String?, now: Int,
        uid: (_ kind: String, _ namespace: String, _ name: String) -> String?
    ) -> Authentication {
        if let certificate, !certificate.commonName.isEmpty {
            return .user(UserInfo(name: certificate.commonName, groups: certificate.organizations).authenticated())
        }
        guard let token = bearerToken else { return .anonymous }
        if !bootstrapToken.isEmpty, token == bootstrapToken { return .user(Self.admin) }
        guard let claims = signer.verify(token) else { return .rejected(reason: "invalid bearer token") }
        switch validate(claims, now: now, uid: uid) {
        case .success(let user): return .user(user)
        case .failure(let rejection): return .rejected(reason: rejection.reason)
        }
    }

    public struct Rejection: Error, Sendable, Hashable {
        public var reason: String
    }

    /// The user a service-account token stands for, checked as the real server checks it on
    /// every request: issuer, audience, time window, then the objects it names.
    public func validate(
        _ claims: ServiceAccountTokenClaims, now: Int, uid: (_ kind: String, _ namespace: String, _ name: String) -> String?
    ) -> Result<UserInfo, Rejection> {
        func reject(_ reason: String) -> Result<UserInfo, Rejection> { .failure(Rejection(reason: reason)) }
        guard claims.issuer == ServiceAccountTokenClaims.defaultIssuer else { return reject("token issuer is not this cluster") }
        guard claims.audiences.contains(ServiceAccountTokenClaims.defaultIssuer) else { return reject("token audiences is invalid") }
        guard now < claims.expiresAt else { return reject("token has expired") }
        guard now >= claims.notBefore - 60 else { return reject("token is not valid yet") }
        guard let accountUID = uid("ServiceAccount", claims.namespace, claims.serviceAccountName) else {
            return reject("service account \(claims.namespace)/\(claims.serviceAccountName) has been deleted")
        }
        guard accountUID == claims.serviceAccountUID else {
            return reject("service account UID (\(accountUID)) does not match claim (\(claims.serviceAccountUID))")
        }
        var extra: [String: [String]] = ["authentication.kubernetes.io/credential-id": ["JTI=\(claims.id)"]]
        if let bound = claims.boundObject {
            guard let boundUID = uid(bound.kind, claims.namespace, bound.name) else {
                return reject("\(bound.kind.lowercased()) \(claims.namespace)/\(bound.name) has been deleted")
            }
            guard boundUID == bound.uid else {
                return reject("\(bound.kind.lowercased()) UID (\(boundUID)) does not match claim (\(bound.uid))")
            }
            if bound.kind == "Pod" {
                extra["authentication.kubernetes.io/pod-name"] = [bound.name]
                extra["authentication.kubernetes.io/pod-uid"] = [bound.uid]
            }
        }
        return .success(.serviceAccount(namespace: claims.namespace, name: claims.serviceAccountName, uid: accountUID, extra: extra))
    }
}
