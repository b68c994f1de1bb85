import Foundation
import KubeClient
import NIOHTTP1
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
import Testing
import TestSupport

/// Typed writes through the REST API without sockets: which verbs and subresources decode and
/// validate what, the warnings a response carries, and the options' own 422.
@Suite("API: typed and validated writes")
struct TypedWritesAPITests {
    func api() throws -> KubernetesAPI {
        let api = KubernetesAPI(store: ObjectStore(), token: "t")
        try api.bootstrap()
        return api
    }

    func request(_ method: HTTPMethod, _ uri: String, _ body: String, contentType: String = "application/json") -> APIRequest {
        let headers = HTTPHeaders([("Authorization", "Bearer t"), ("Content-Type", contentType), ("Accept", "application/json")])
        return APIRequest(method: method, uri: uri, headers: headers, body: Array(body.utf8), user: "")
    }

    /// The status, the body and the warnings of a response.
    func send(_ api: KubernetesAPI, _ request: APIRequest) async throws -> (Int, JSONValue, [String]) {
        var response = await api.handle(request)
        var warnings: [String] = []
        if case .warned(let inner, let more) = response {
            response = inner
            warnings = more
        }
        guard case .full(let status, _, let body) = response else {
            Issue.record("expected a whole response")
            return (0, .null, [])
        }
        return (status, try JSONValue(data: Data(body)), warnings)
    }

    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
         "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
                 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}
        """#

    @Test("create: unknown fields come back as warnings (Warn, the default), are refused under Strict, never stored")
    func createWarnings() async throws {
        let api = try api()
        let body = #"{"metadata":{"name":"c","shape":"round"},"data":{"a":"1"},"data":{"b":"2"}}"#
        var (status, stored, warnings) = try await send(api, request(.POST, "/api/v1/namespaces/default/configmaps", body))
        #expect(status == 201)
        #expect(warnings == [#"unknown field "metadata.shape""#, #"duplicate field "data""#])
        #expect(stored["metadata"]?["shape"] == nil && stored["data"] == ["a": "1", "b": "2"])
        (status, stored, warnings) = try await send(api, request(.POST, "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                                                                 body.replacingOccurrences(of: #""c""#, with: #""d""#)))
        #expect(status == 400 && warnings.isEmpty)
        #expect(stored["reason"] == "BadRequest")
        #expect(stored["message"] == #"ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.shape", duplicate field "data""#)
        (status, stored, _) = try await send(api, request(.POST, "/api/v1/namespaces/default/configmaps?fieldValidation=Nope", body))
        #expect(status == 422)
        #expect(stored["message"] == #"CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Nope": supported values: "", "Ignore", "Strict", "Warn""#)
    }

    @Test("update (PUT): decoded like a create, then validated against the stored object")
    func update() async throws {
        let api = try api()
        var (status, _, _) = try await send(api, request(.POST, "/apis/apps/v1/namespaces/default/deployments", Self.deployment))
        #expect(status == 201)
        let uri = "/apis/apps/v1/namespaces/default/deployments/web"
        var body: JSONValue
        (status, body, _) = try await send(api, request(.PUT, uri, Self.deployment.replacingOccurrences(of: #""replicas":1"#, with: #""replicas":"1""#)))
        #expect(status == 400 && body["message"] == #"Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"#)
        (status, body, _) = try await send(api, request(.PUT, uri, Self.deployment.replacingOccurrences(of: #""matchLabels":{"app":"web"}"#, with: #""matchLabels":{"app":"web","tier":"x"}"#)))
        #expect(status == 422)
        #expect((body["message"]?.stringValue ?? "").hasPrefix(#"Deployment.apps "web" is invalid: [spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`, spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}"#), "\(body)")
        #expect(body["details"]?["group"] == "apps" && body["details"]?["kind"] == "Deployment")
        #expect(body["details"]?["causes"]?[0]?["field"] == "spec.template.metadata.labels")
    }

    @Test("the scale subresource decodes a Scale and keeps replicas non-negative")
    func scale() async throws {
        let api = try api()
        _ = try await send(api, request(.POST, "/apis/apps/v1/namespaces/default/deployments", Self.deployment))
        let uri = "/apis/apps/v1/namespaces/default/deployments/web/scale"
        var (status, body, _) = try await send(api, request(.PUT, uri, #"{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web"},"spec":{"replicas":"3"}}"#))
        #expect(status == 400 && body["message"] == #"Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal string into Go struct field ScaleSpec.spec.replicas of type int32"#)
        (status, body, _) = try await send(api, request(.PATCH, uri, #"{"spec":{"replicas":-1}}"#, contentType: "application/merge-patch+json"))
        #expect(status == 422 && body["message"] == #"Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#)
        (status, body, _) = try await send(api, request(.PATCH, uri, #"{"spec":{"replicas":3}}"#, contentType: "application/merge-patch+json"))
        #expect(status == 200 && body["spec"]?["replicas"] == 3)
    }

    @Test("the status subresource: the whole body is decoded, only status is taken, and its counts validated")
    func status() async throws {
        let api = try api()
        _ = try await send(api, request(.POST, "/apis/apps/v1/namespaces/default/deployments", Self.deployment))
        let uri = "/apis/apps/v1/namespaces/default/deployments/web/status"
        var (status, body, _) = try await send(api, request(.PATCH, uri, #"{"status":{"replicas":"many"}}"#, contentType: "application/merge-patch+json"))
        #expect(status == 422 && (body["message"]?.stringValue ?? "").hasSuffix("json: cannot unmarshal string into Go struct field DeploymentStatus.status.replicas of type int32"))
        (status, body, _) = try await send(api, request(.PATCH, uri, #"{"status":{"replicas":-2}}"#, contentType: "application/merge-patch+json"))
        #expect(status == 422 && body["message"] == #"Deployment.apps "web" is invalid: status.replicas: Invalid value: -2: must be greater than or equal to 0"#)
        // A spec change through status is no change at all, and needs no valid spec.
        (status, body, _) = try await send(api, request(.PATCH, uri, #"{"spec":{"replicas":-5},"status":{"replicas":1}}"#, contentType: "application/merge-patch+json"))
        #expect(status == 200 && body["spec"]?["replicas"] == 1 && body["status"]?["replicas"] == 1)
    }

    @Test("dry run validates as the real write would")
    func dryRun() async throws {
        let api = try api()
        let (status, body, _) = try await send(api, request(.POST, "/apis/apps/v1/namespaces/default/deployments?dryRun=All",
                                                            Self.deployment.replacingOccurrences(of: #""replicas":1"#, with: #""replicas":-1"#)))
        #expect(status == 422 && body["message"] == #"Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"#)
    }

    @Test("server-side apply creating an object decodes it like a create")
    func applyCreates() async throws {
        let api = try api()
        let uri = "/api/v1/namespaces/default/configmaps/a?fieldManager=me&fieldValidation=Strict"
        var (status, body, _) = try await send(api, request(.PATCH, uri, #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"x":1}}"#,
                                                            contentType: "application/apply-patch+yaml"))
        #expect(status == 400 && body["message"] == #"ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"#)
        (status, body, _) = try await send(api, request(.PATCH, uri, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: \"1\"}\n",
                                                        contentType: "application/apply-patch+yaml"))
        #expect(status == 201 && body["data"] == ["x": "1"])
    }

    @Test("what the sandbox stores itself (defaults, controllers' objects, the node's status) has no field outside the kinds' types, so a client's patch of it warns of nothing")
    func storedObjectsAreTyped() async throws {
        try await TestCluster.with { cluster in
            let api = cluster.server.api
            _ = try api.createObject(ResourceCatalog.deployments, try JSONValue(data: Data(Self.deployment.utf8)).merging(namespace: "default"))
            _ = try api.createObject(ResourceCatalog.services, [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": "default"],
                "spec": ["selector": ["app": "web"], "ports": [["port": 80]]],
            ])
            try await waitUntil("the deployment's pod to be ready and its endpoints published", timeout: .seconds(20)) {
                let pods = api.store.list(ResourceCatalog.pods, namespace: "default").items
                let endpoints = api.store.get(ResourceCatalog.endpoints, namespace: "default", name: "web")
                return pods.contains { $0.object.value["status"]?["podIP"] != nil } && endpoints?.value["subsets"] != nil
            }
            for type in ResourceCatalog.all {
                for item in api.store.list(type, namespace: nil).items {
                    let object = item.object.value
                    let result = try TypedDecoder.decode(object, as: type.kind)
                    #expect(result.strictErrors.isEmpty, "\(type.kind) \(item.object.name): \(result.strictErrors)")
                }
            }
        }
    }
}

extension JSONValue {
    fileprivate func merging(namespace: String) -> JSONValue {
        var copy = self
        copy["metadata"]?["namespace"] = .string(namespace)
        return copy
    }
}
