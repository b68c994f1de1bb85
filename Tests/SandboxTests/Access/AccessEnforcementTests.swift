import Foundation
import KubeClient
import NIOHTTP1
import Sandbox
import Testing

@testable import SandboxAPIMachinery
@testable import SandboxAPIServer

/// Access control on every way into the API server, with KubeClient and raw requests: the
/// streams (exec, port-forward), logs and eviction are authorized like the rest; anonymous
/// requests get 401 except for health and version; tokens are checked on every request;
/// impersonation headers; webhooks see the real user; the default policy is in the store.
@Suite("Access control on every request")
struct AccessEnforcementTests {
    /// A client for the user `name` (a client certificate) that a Role in default lets do `rules`.
    static func limitedClient(_ cluster: TestCluster, _ name: String, rules: [JSONValue]) throws -> KubeClient {
        _ = try cluster.api.createObject(StoreRBACPolicy.roles, [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": .string(name), "namespace": "default"],
            "rules": .array(rules),
        ])
        _ = try cluster.api.createObject(StoreRBACPolicy.roleBindings, [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": ["name": .string(name), "namespace": "default"],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": .string(name)],
            "subjects": [["kind": "User", "name": .string(name)]],
        ])
        let file = cluster.directory.appendingPathComponent("\(name).kubeconfig")
        try cluster.server.kubeconfig(clientCertificateUser: name, groups: []).write(to: file, atomically: true, encoding: .utf8)
        return KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: file.path)))
    }

    static func message(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "allowed"
        } catch {
            return "\(error)"
        }
    }

    @Test("exec and port-forward upgrades need create on their subresource; logs need get on pods/log; eviction create")
    func streamsAreAuthorized() async throws {
        try await TestCluster.with { cluster in
            cluster.api.node.runtime = FakePodRuntime()
            try await cluster.runningPod("web")
            try await cluster.runningPod("db")
            let reader = try Self.limitedClient(cluster, "reader", rules: [["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]]])
            var text = await Self.message { _ = try await reader.exec(pod: "web", namespace: "default", command: ["true"]) }
            #expect(text.contains(#"pods "web" is forbidden: User "reader" cannot create resource "pods/exec" in API group "" in the namespace "default""#), "\(text)")
            text = await Self.message { _ = try await reader.portForward(pod: "web", namespace: "default", port: 8080) }
            #expect(text.contains(#"cannot create resource "pods/portforward" in API group "" in the namespace "default""#), "\(text)")
            text = await Self.message { _ = try await reader.logs(pod: "web", namespace: "default") }
            #expect(text.contains(#"pods "web" is forbidden: User "reader" cannot get resource "pods/log" in API group "" in the namespace "default""#), "\(text)")

            let operator_ = try Self.limitedClient(cluster, "operator", rules: [
                ["apiGroups": [""], "resources": ["pods/exec", "pods/eviction"], "verbs": ["create"]],
                ["apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"], "resourceNames": ["web"]],
            ])
            let result = try await operator_.exec(pod: "web", namespace: "default", command: ["true"])
            #expect(result.exitCode == 0)
            text = await Self.message { _ = try await operator_.logs(pod: "web", namespace: "default") }
            #expect(text == "allowed", "\(text)")
            text = await Self.message { _ = try await operator_.logs(pod: "db", namespace: "default") }
            #expect(text.contains(#"pods "db" is forbidden"#), "resourceNames: \(text)")

            func evict(_ user: String) async -> (Int, JSONValue) {
                let request = APIRequest(method: .POST, uri: "/api/v1/namespaces/default/pods/db/eviction", headers: ["Content-Type": "application/json"],
                                         body: Array(#"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"db"}}"#.utf8), user: user)
                guard case .full(let status, _, let body) = await cluster.api.handle(request) else { return (0, .null) }
                return (status, (try? JSONBytes.decode(body)) ?? .null)
            }
            let (refused, status) = await evict("reader")
            #expect(refused == 403 && status["reason"] == "Forbidden" && status["details"] == ["name": "db", "kind": "pods"], "\(status)")
            #expect(status["message"]?.stringValue == #"pods "db" is forbidden: User "reader" cannot create resource "pods/eviction" in API group "" in the namespace "default""#)
            #expect(await evict("operator").0 == 201)
        }
    }

    func send(_ cluster: TestCluster, _ method: HTTPMethod, _ uri: String, headers: HTTPHeaders = [:], body: JSONValue? = nil, user: String = "", groups: [String] = []) async -> (Int, JSONValue) {
        var headers = headers
        if body != nil { headers.add(name: "Content-Type", value: "application/json") }
        let request = APIRequest(method: method, uri: uri, headers: headers, body: body.map(JSONBytes.encode) ?? [], user: user, groups: groups)
        guard case .full(let status, _, let bytes) = await cluster.api.handle(request) else { return (0, .null) }
        return (status, (try? JSONBytes.decode(bytes)) ?? .string(String(decoding: bytes, as: UTF8.self)))
    }

    @Test("anonymous requests: health and version answer, everything else is 401; a bad token is 401 everywhere")
    func anonymous() async throws {
        try await TestCluster.with { cluster in
            for path in ["/healthz", "/readyz", "/livez", "/version"] {
                #expect(await send(cluster, .GET, path).0 == 200, "\(path)")
            }
            for path in ["/api", "/apis", "/api/v1/namespaces/default/pods", "/openapi/v3"] {
                let (status, body) = await send(cluster, .GET, path)
                #expect(status == 401 && body["message"] == "Unauthorized", "\(path): \(body)")
            }
            #expect(await send(cluster, .GET, "/healthz", headers: ["Authorization": "Bearer nope"]).0 == 401)
        }
    }

    @Test("a service account's token: TokenRequest, TokenReview, whoami; a pod-bound token dies with its pod")
    func tokens() async throws {
        try await TestCluster.with { cluster in
            let token = try await cluster.server.requestToken(namespace: "default", serviceAccount: "default")
            let bearer: HTTPHeaders = ["Authorization": "Bearer \(token)"]
            let (status, whoami) = await send(cluster, .POST, "/apis/authentication.k8s.io/v1/selfsubjectreviews", headers: bearer,
                                                body: ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
            #expect(status == 201)
            #expect(whoami["status"]?["userInfo"]?["username"] == "system:serviceaccount:default:default")
            #expect(whoami["status"]?["userInfo"]?["groups"] == ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"])
            // The default service account may do nothing but discover and review itself.
            let (denied, forbidden) = await send(cluster, .GET, "/api/v1/namespaces/default/pods", headers: bearer)
            #expect(denied == 403 && forbidden["message"] == #"pods is forbidden: User "system:serviceaccount:default:default" cannot list resource "pods" in API group "" in the namespace "default""#)
            // The refusal is in the denial log (sandbox-cluster's audit.log), with who asked for what.
            let denial = try #require(cluster.api.denials.entries.last)
            #expect(denial.user == "system:serviceaccount:default:default" && denial.verb == "list" && denial.resource == "pods"
                        && denial.namespace == "default" && denial.message == forbidden["message"]?.stringValue, "\(denial)")
            #expect(await send(cluster, .GET, "/apis", headers: bearer).0 == 200)
            let (_, review) = await send(cluster, .POST, "/apis/authentication.k8s.io/v1/tokenreviews", headers: ["Authorization": "Bearer \(cluster.server.token)"],
                                         body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": ["token": .string(token)]])
            #expect(review["status"]?["authenticated"] == true && review["status"]?["user"]?["username"] == "system:serviceaccount:default:default")

            // A pod's own token, as the node mounts it, works while the pod exists.
            let pod = try await cluster.runningPod("web")
            let podToken = cluster.api.podServiceAccountToken(pod.value)
            let podBearer: HTTPHeaders = ["Authorization": "Bearer \(podToken)"]
            let (_, podWhoami) = await send(cluster, .POST, "/apis/authentication.k8s.io/v1/selfsubjectreviews", headers: podBearer,
                                            body: ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
            #expect(podWhoami["status"]?["userInfo"]?["extra"]?["authentication.kubernetes.io/pod-name"] == ["web"], "\(podWhoami)")
            try cluster.api.store.delete(ResourceCatalog.pods, namespace: "default", name: "web")
            #expect(await send(cluster, .GET, "/apis", headers: podBearer).0 == 401)
            // A TokenRequest bound to a pod: the token goes with the pod.
            _ = try await cluster.runningPod("db")
            let admin: HTTPHeaders = ["Authorization": "Bearer \(cluster.server.token)"]
            let (created, bound) = await send(cluster, .POST, "/api/v1/namespaces/default/serviceaccounts/default/token", headers: admin,
                                              body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                                     "spec": ["boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": "db"]]])
            #expect(created == 201 && bound["spec"]?["expirationSeconds"] == 3600 && bound["status"]?["expirationTimestamp"]?.stringValue != nil, "\(bound)")
            let boundBearer: HTTPHeaders = ["Authorization": "Bearer \(bound["status"]?["token"]?.stringValue ?? "")"]
            #expect(await send(cluster, .GET, "/apis", headers: boundBearer).0 == 200)
            try cluster.api.store.delete(ResourceCatalog.pods, namespace: "default", name: "db")
            #expect(await send(cluster, .GET, "/apis", headers: boundBearer).0 == 401)
            let (missing, notFound) = await send(cluster, .POST, "/api/v1/namespaces/default/serviceaccounts/default/token", headers: admin,
                                                 body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                                        "spec": ["boundObjectRef": ["kind": "Pod", "apiVersion": "v1", "name": "db"]]])
            #expect(missing == 404 && notFound["message"] == #"pods "db" not found"#)
            // Another scheme than Bearer, or an empty token, is no credential: health still answers.
            #expect(await send(cluster, .GET, "/healthz", headers: ["Authorization": "Basic YTpi"]).0 == 200)
            #expect(await send(cluster, .GET, "/api", headers: ["Authorization": "Basic YTpi"]).0 == 401)
            // Expiry below ten minutes is refused with the real message.
            let (short, invalid) = await send(cluster, .POST, "/api/v1/namespaces/default/serviceaccounts/default/token", headers: ["Authorization": "Bearer \(cluster.server.token)"],
                                              body: ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": ["expirationSeconds": 60]])
            #expect(short == 422 && invalid["message"] == #"TokenRequest.authentication.k8s.io "default" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes"#)
        }
    }

    @Test("Impersonate-* headers: allowed for the admin, refused for others with the real message")
    func impersonationHeaders() async throws {
        try await TestCluster.with { cluster in
            let admin: HTTPHeaders = ["Authorization": "Bearer \(cluster.server.token)", "Impersonate-User": "jane", "Impersonate-Group": "ops"]
            let (status, whoami) = await send(cluster, .POST, "/apis/authentication.k8s.io/v1/selfsubjectreviews", headers: admin,
                                                body: ["apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"])
            #expect(status == 201 && whoami["status"]?["userInfo"]?["username"] == "jane" && whoami["status"]?["userInfo"]?["groups"] == ["ops", "system:authenticated"])
            let (refused, body) = await send(cluster, .GET, "/api", headers: ["Impersonate-User": "jane"], user: "mallory")
            #expect(refused == 403 && body["message"] == #"users "jane" is forbidden: User "mallory" cannot impersonate resource "users" in API group "" at the cluster scope"#)
            #expect(body["details"] == ["name": "jane", "kind": "users"])
        }
    }

    @Test("SelfSubjectAccessReview answers with RBAC's reason; the default policy is in the store")
    func accessReview() async throws {
        try await TestCluster.with { cluster in
            let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                     "spec": ["resourceAttributes": ["verb": "delete", "resource": "nodes"]]]
            let (status, admin) = await send(cluster, .POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                             headers: ["Authorization": "Bearer \(cluster.server.token)"], body: review)
            #expect(status == 201 && admin["status"] == ["allowed": true, "reason": #"RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters""#])
            let (_, someone) = await send(cluster, .POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: review, user: "someone")
            #expect(someone["status"] == ["allowed": false])
            let (_, both) = await send(cluster, .POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: ["spec": [:]], user: "someone")
            #expect(both["code"] == 422)
            #expect(await send(cluster, .GET, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", headers: ["Authorization": "Bearer \(cluster.server.token)"]).0 == 405)
            let names = cluster.api.store.list(StoreRBACPolicy.clusterRoles, namespace: nil).items.map(\.object.name)
            for name in ["cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user", "system:public-info-viewer"] {
                #expect(names.contains(name), "\(name)")
            }
            // A certificate's organizations are groups: O=system:masters is an admin.
            #expect(await send(cluster, .GET, "/api/v1/nodes", user: "root", groups: ["system:masters"]).0 == 200)
            #expect(await send(cluster, .GET, "/api/v1/nodes", user: "root").0 == 403)
        }
    }
}
