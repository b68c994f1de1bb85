import Testing

@testable import SandboxAPIMachinery

/// Who a request is: client certificates, the bootstrap token, service-account tokens checked
/// against the objects they name on every request, and anonymous requests.
@Suite struct AuthenticatorTests {
    static let signer = ServiceAccountTokenSigner(key: Array("0123456789abcdef0123456789abcdef".utf8))
    static let authenticator = Authenticator(bootstrapToken: "admin-token", signer: signer)
    static let now = 1_800_000_000

    /// The objects that exist: uid by "Kind/namespace/name".
    static func lookup(_ objects: [String: String]) -> @Sendable (String, String, String) -> String? {
        { kind, namespace, name in objects["\(kind)/\(namespace)/\(name)"] }
    }

    static var existing: @Sendable (String, String, String) -> String? { lookup(["ServiceAccount/demo/robot": "sa-uid", "Pod/demo/web": "pod-uid"]) }

    static func claims(lifetime: Int = 3600, bound: ServiceAccountTokenClaims.BoundObject? = nil) -> ServiceAccountTokenClaims {
        ServiceAccountTokenClaims(issuedAt: now, expiresAt: now + lifetime, id: "jti-1", namespace: "demo",
                                  serviceAccountName: "robot", serviceAccountUID: "sa-uid", boundObject: bound)
    }

    func authenticate(_ token: String?, certificate: CertificateSubject? = nil, at time: Int = now,
                      objects: @escaping (String, String, String) -> String? = existing) -> Authentication {
        Self.authenticator.authenticate(certificate: certificate, bearerToken: token, now: time, uid: objects)
    }

    @Test func theBootstrapTokenIsTheAdminInSystemMasters() {
        #expect(authenticate("admin-token") == .user(UserInfo(name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"])))
        #expect(authenticate("admin-token-2") == .rejected(reason: "invalid bearer token"))
        #expect(authenticate(nil) == .anonymous)
    }

    @Test func aClientCertificateGivesItsCommonNameAndOrganizations() {
        let subject = CertificateSubject(commonName: "alice", organizations: ["dev", "ops"])
        #expect(authenticate(nil, certificate: subject) == .user(UserInfo(name: "alice", groups: ["dev", "ops", "system:authenticated"])))
        // The certificate is checked first, as the real server's authenticators are ordered.
        #expect(authenticate("wrong", certificate: subject) == .user(UserInfo(name: "alice", groups: ["dev", "ops", "system:authenticated"])))
        #expect(authenticate(nil, certificate: CertificateSubject(commonName: "", organizations: ["x"])) == .anonymous)
    }

    @Test func aServiceAccountTokenIsItsAccountWithItsGroups() throws {
        let token = Self.signer.sign(Self.claims())
        guard case .user(let user) = authenticate(token) else { Issue.record("rejected"); return }
        #expect(user.name == "system:serviceaccount:demo:robot")
        #expect(user.uid == "sa-uid")
        #expect(user.groups == ["system:serviceaccounts", "system:serviceaccounts:demo", "system:authenticated"])
        #expect(user.extra["authentication.kubernetes.io/credential-id"] == ["JTI=jti-1"])
    }

    @Test func aTokenIsAJWTWithTheRealClaims() throws {
        let token = Self.signer.sign(Self.claims(bound: .init(kind: "Pod", name: "web", uid: "pod-uid")))
        let parts = token.split(separator: ".")
        #expect(parts.count == 3)
        let payload = try #require(ServiceAccountTokenSigner.decodeBase64URL(parts[1]))
        let text = String(decoding: payload, as: UTF8.self)
        for claim in [#""sub":"system:serviceaccount:demo:robot""#, #""iss":"https://kubernetes.default.svc.cluster.local""#,
                      #""exp":1800003600"#, #""pod":{"name":"web","uid":"pod-uid"}"#, #""serviceaccount":{"name":"robot","uid":"sa-uid"}"#] {
            #expect(text.contains(claim), "\(text)")
        }
        #expect(Self.signer.verify(token) == Self.claims(bound: .init(kind: "Pod", name: "web", uid: "pod-uid")))
    }

    @Test func aTokenStopsWorkingWhenItExpiresOrItsObjectsGo() {
        let token = Self.signer.sign(Self.claims())
        #expect(authenticate(token, at: Self.now + 3599) != .rejected(reason: "token has expired"))
        #expect(authenticate(token, at: Self.now + 3600) == .rejected(reason: "token has expired"))
        #expect(authenticate(token, objects: Self.lookup([:])) == .rejected(reason: "service account demo/robot has been deleted"))
        // Deleted and made again: another uid, so the old token is not its token.
        #expect(authenticate(token, objects: Self.lookup(["ServiceAccount/demo/robot": "new-uid"]))
                == .rejected(reason: "service account UID (new-uid) does not match claim (sa-uid)"))
        let podToken = Self.signer.sign(Self.claims(bound: .init(kind: "Pod", name: "web", uid: "pod-uid")))
        guard case .user(let user) = authenticate(podToken) else { Issue.record("rejected"); return }
        #expect(user.extra["authentication.kubernetes.io/pod-name"] == ["web"])
        #expect(authenticate(podToken, objects: Self.lookup(["ServiceAccount/demo/robot": "sa-uid"]))
                == .rejected(reason: "pod demo/web has been deleted"))
    }

    @Test func aTokenSignedWithAnotherKeyOrChangedIsRejected() {
        let other = ServiceAccountTokenSigner(key: Array("another key, another cluster.....".utf8))
        #expect(authenticate(other.sign(Self.claims())) == .rejected(reason: "invalid bearer token"))
        var parts = Self.signer.sign(Self.claims()).split(separator: ".").map(String.init)
        var forged = Self.claims()
        forged.serviceAccountName = "admin"
        parts[1] = ServiceAccountTokenSigner.base64URL(Array(JSONBytesWriter.encode(forged.json)))
        #expect(authenticate(parts.joined(separator: ".")) == .rejected(reason: "invalid bearer token"))
    }

    @Test func aTokenForAnotherAudienceIsNotForTheAPI() {
        var claims = Self.claims()
        claims.audiences = ["vault"]
        #expect(authenticate(Self.signer.sign(claims)) == .rejected(reason: "token audiences is invalid"))
    }
}

/// `Impersonate-*` headers: what must be allowed, and whom the request then acts as.
@Suite struct ImpersonationTests {
    static let alice = UserInfo(name: "alice", groups: ["system:authenticated"])

    @Test func noHeadersNoImpersonation() throws {
        #expect(try ImpersonationRequest(headers: [("Accept", "application/json")]) == nil)
    }

    @Test func aUserAndGroupsAreEachChecked() throws {
        let impersonation = try #require(try ImpersonationRequest(headers: [("Impersonate-User", "bob"), ("Impersonate-Group", "dev"), ("Impersonate-Group", "ops")]))
        let checks = impersonation.checks(requester: Self.alice)
        #expect(checks.map { "\($0.verb) \($0.resource) \($0.name)" } == ["impersonate users bob", "impersonate groups dev", "impersonate groups ops"])
        #expect(impersonation.impersonated == UserInfo(name: "bob", groups: ["dev", "ops", "system:authenticated"]))
        #expect(Forbidden(checks[0]).message == #"users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope"#)
    }

    @Test func aServiceAccountIsCheckedInItsNamespaceAndGetsItsGroups() throws {
        let impersonation = try #require(try ImpersonationRequest(headers: [("impersonate-user", "system:serviceaccount:demo:robot")]))
        let check = try #require(impersonation.checks(requester: Self.alice).first)
        #expect(check.resource == "serviceaccounts" && check.namespace == "demo" && check.name == "robot")
        #expect(Forbidden(check).message == #"serviceaccounts "robot" is forbidden: User "alice" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "demo""#)
        #expect(impersonation.impersonated.groups == ["system:serviceaccounts", "system:serviceaccounts:demo", "system:authenticated"])
    }

    @Test func uidAndExtrasAreAuthenticationGroupResources() throws {
        let impersonation = try #require(try ImpersonationRequest(headers: [("Impersonate-User", "bob"), ("Impersonate-Uid", "1234"), ("Impersonate-Extra-Scopes", "view")]))
        let checks = impersonation.checks(requester: Self.alice)
        #expect(checks.map(\.combinedResource) == ["users", "userextras/scopes", "uids"])
        #expect(checks.dropFirst().allSatisfy { $0.apiGroup == "authentication.k8s.io" })
        #expect(impersonation.impersonated.uid == "1234" && impersonation.impersonated.extra == ["scopes": ["view"]])
    }

    @Test func groupsWithoutAUserAreRefused() {
        #expect(throws: ImpersonationError.self) { try ImpersonationRequest(headers: [("Impersonate-Group", "dev")]) }
    }

    @Test func anonymousStaysUnauthenticated() throws {
        let impersonation = try #require(try ImpersonationRequest(headers: [("Impersonate-User", "system:anonymous")]))
        #expect(impersonation.impersonated.groups == ["system:unauthenticated"])
    }
}

/// The attributes the authorizer sees, read off the method and URL as the real server reads them.
@Suite struct RequestAttributesTests {
    static let user = UserInfo(name: "u")

    func attributes(_ method: String, _ path: String, _ query: [String: String] = [:]) -> RequestAttributes {
        RequestAttributes(user: Self.user, method: method, path: path, query: query)
    }

    @Test func verbsFollowTheMethodAndWhetherANameIsGiven() {
        #expect(attributes("GET", "/api/v1/namespaces/demo/pods").verb == "list")
        #expect(attributes("GET", "/api/v1/namespaces/demo/pods", ["watch": "True"]).verb == "watch")
        #expect(attributes("GET", "/api/v1/namespaces/demo/pods/web").verb == "get")
        #expect(attributes("POST", "/api/v1/namespaces/demo/pods").verb == "create")
        #expect(attributes("PUT", "/api/v1/namespaces/demo/pods/web").verb == "update")
        #expect(attributes("PATCH", "/api/v1/namespaces/demo/pods/web").verb == "patch")
        #expect(attributes("DELETE", "/api/v1/namespaces/demo/pods/web").verb == "delete")
        #expect(attributes("DELETE", "/api/v1/namespaces/demo/pods").verb == "deletecollection")
    }

    @Test func resourceNamespaceSubresourceAndName() {
        let exec = attributes("POST", "/api/v1/namespaces/demo/pods/web/exec")
        #expect(exec.isResourceRequest && exec.namespace == "demo" && exec.resource == "pods" && exec.name == "web" && exec.subresource == "exec")
        let scale = attributes("PATCH", "/apis/apps/v1/namespaces/demo/deployments/web/scale")
        #expect(scale.apiGroup == "apps" && scale.apiVersion == "v1" && scale.combinedResource == "deployments/scale")
        let nodes = attributes("GET", "/api/v1/nodes/n1")
        #expect(nodes.namespace == "" && nodes.resource == "nodes" && nodes.name == "n1")
        let allPods = attributes("GET", "/api/v1/pods")
        #expect(allPods.namespace == "" && allPods.verb == "list")
    }

    @Test func aNamespaceIsInItself() {
        let namespace = attributes("GET", "/api/v1/namespaces/demo")
        #expect(namespace.resource == "namespaces" && namespace.name == "demo" && namespace.namespace == "demo")
        let status = attributes("PUT", "/api/v1/namespaces/demo/status")
        #expect(status.combinedResource == "namespaces/status" && status.name == "demo")
        #expect(attributes("GET", "/api/v1/namespaces").namespace == "")
    }

    @Test func aFieldSelectorOnTheNameNamesTheObject() {
        #expect(attributes("GET", "/api/v1/namespaces/demo/pods", ["fieldSelector": "metadata.name=web", "watch": "true"]).name == "web")
        #expect(attributes("GET", "/api/v1/namespaces/demo/pods", ["fieldSelector": "metadata.name!=web"]).name == "")
        #expect(attributes("GET", "/api/v1/namespaces/demo/pods", ["fieldSelector": "status.phase=Running"]).name == "")
    }

    @Test func discoveryAndHealthAreNonResourcePaths() {
        for path in ["/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/healthz", "/openapi/v3", "/version"] {
            let request = attributes("GET", path)
            #expect(!request.isResourceRequest && request.path == path && request.verb == "get", "\(path)")
        }
    }
}
