import KubeClient
import NIOHTTP1
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

@Suite("object store")
struct ObjectStoreTests {
    let configMaps = ResourceCatalog.lookup(apiVersion: "v1", plural: "configmaps")!

    func configMap(_ name: String, _ data: JSONValue = [:]) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": "default"], "data": data]
    }

    @Test("every write gets a higher resourceVersion")
    func ordering() throws {
        let store = ObjectStore()
        let a = try store.create(configMaps, configMap("a"))
        let b = try store.create(configMaps, configMap("b"))
        let a2 = try store.update(configMaps, namespace: "default", name: "a") { current in
            var v = current.value
            v["data"] = ["k": "v"]
            return v
        }
        let gone = try store.delete(configMaps, namespace: "default", name: "b")
        #expect(a.resourceVersion < b.resourceVersion && b.resourceVersion < a2.resourceVersion && a2.resourceVersion < gone.resourceVersion)
        #expect(a2.value["metadata"]?["uid"] == a.value["metadata"]?["uid"])
        #expect(a.value["metadata"]?["resourceVersion"] == .string(String(a.resourceVersion)))
    }

    @Test("an update that changes nothing writes nothing")
    func noOpUpdate() throws {
        let store = ObjectStore()
        let a = try store.create(configMaps, configMap("a"))
        let same = try store.update(configMaps, namespace: "default", name: "a") { $0.value }
        #expect(same.resourceVersion == a.resourceVersion)
    }

    @Test("creating an existing name is a 409 AlreadyExists")
    func alreadyExists() throws {
        let store = ObjectStore()
        try store.create(configMaps, configMap("a"))
        #expect(throws: APIError.self) { try store.create(configMaps, configMap("a")) }
        do {
            try store.create(configMaps, configMap("a"))
        } catch {
            #expect(error.code == 409 && error.reason == "AlreadyExists" && error.message == #"configmaps "a" already exists"#)
        }
    }

    @Test("generateName appends five characters of the Kubernetes alphabet")
    func generateName() throws {
        let store = ObjectStore()
        let object = try store.create(configMaps, ["metadata": ["generateName": "web-", "namespace": "default"]])
        let suffix = object.name.dropFirst(4)
        #expect(object.name.hasPrefix("web-") && suffix.count == 5 && suffix.allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
    }

    @Test("a watch from a resourceVersion replays what came after it, then follows live")
    func watchFromResourceVersion() async throws {
        let store = ObjectStore()
        let first = try store.create(configMaps, configMap("a"))
        try store.create(configMaps, configMap("b"))
        let subscription = try store.subscribe(configMaps, namespace: "default", after: first.resourceVersion)
        defer { subscription.cancel() }
        #expect(subscription.backlog.map(\.object.name) == ["b"])
        try store.delete(configMaps, namespace: "default", name: "a")
        var iterator = subscription.events.makeAsyncIterator()
        let event = await iterator.next()
        #expect(event?.kind == .deleted && event?.object.name == "a")
    }

    @Test("a watch from a resourceVersion older than the window is 410 Expired")
    func expired() throws {
        let store = ObjectStore(retainedEvents: 3)
        for i in 0..<10 { try store.create(configMaps, configMap("c\(i)")) }
        #expect(throws: APIError.self) { try store.subscribe(configMaps, namespace: nil, after: 2) }
        do {
            _ = try store.subscribe(configMaps, namespace: nil, after: 2)
        } catch {
            #expect(error.code == 410 && error.reason == "Expired" && error.message.hasPrefix("too old resource version: 2"))
        }
        #expect(throws: Never.self) { try store.subscribe(configMaps, namespace: nil, after: store.currentResourceVersion - 2).cancel() }
    }
}

@Suite("API semantics without sockets")
struct APISemanticsTests {
    func api() throws -> KubernetesAPI {
        let api = KubernetesAPI(store: ObjectStore(), token: "t")
        try api.bootstrap()
        return api
    }

    func request(_ method: HTTPMethod, _ uri: String, _ body: JSONValue? = nil, contentType: String = "application/json") -> APIRequest {
        var headers = HTTPHeaders([("Authorization", "Bearer t"), ("Content-Type", contentType)])
        headers.add(name: "Accept", value: "application/json")
        return APIRequest(method: method, uri: uri, headers: headers, body: body.map { Array((try? $0.data()) ?? .init()) } ?? [], user: "")
    }

    func send(_ api: KubernetesAPI, _ request: APIRequest) async throws -> (Int, JSONValue) {
        guard case .full(let status, _, let body) = await api.handle(request) else {
            Issue.record("expected a whole response")
            return (0, .null)
        }
        return (status, try JSONValue(data: .init(body)))
    }

    @Test("a missing object is 404 with Kubernetes' message")
    func notFound() async throws {
        let (status, body) = try await send(try api(), request(.GET, "/api/v1/namespaces/default/pods/x"))
        #expect(status == 404 && body["message"] == #"pods "x" not found"# && body["reason"] == "NotFound" && body["kind"] == "Status")
    }

    @Test("a wrong token is 401 with a Status")
    func unauthorized() async throws {
        var req = request(.GET, "/api/v1/pods")
        req.headers.replaceOrAdd(name: "Authorization", value: "Bearer wrong")
        let (status, body) = try await send(try api(), req)
        #expect(status == 401 && body["reason"] == "Unauthorized")
    }

    @Test("an update with a stale resourceVersion is 409 Conflict")
    func conflict() async throws {
        let api = try api()
        let cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"], "data": ["a": "1"]]
        let (_, created) = try await send(api, request(.POST, "/api/v1/namespaces/default/configmaps", cm))
        var stale = created
        stale["data"] = ["a": "2"]
        let (ok, _) = try await send(api, request(.PUT, "/api/v1/namespaces/default/configmaps/c", stale))
        #expect(ok == 200)
        let (status, body) = try await send(api, request(.PUT, "/api/v1/namespaces/default/configmaps/c", stale))
        #expect(status == 409 && body["message"] == #"Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again"#)
    }

    @Test("creating in a missing namespace is 404 for the namespace")
    func missingNamespace() async throws {
        let cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c"]]
        let (status, body) = try await send(try api(), request(.POST, "/api/v1/namespaces/nope/configmaps", cm))
        #expect(status == 404 && body["message"] == #"namespaces "nope" not found"#)
    }

    @Test("an invalid name is 422 Invalid with a cause")
    func invalidName() async throws {
        let cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "Bad_Name"]]
        let (status, body) = try await send(try api(), request(.POST, "/api/v1/namespaces/default/configmaps", cm))
        #expect(status == 422 && body["reason"] == "Invalid")
        #expect(body["details"]?["causes"]?[0]?["field"] == "metadata.name")
        #expect(body["message"]?.stringValue?.hasPrefix(#"ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain"#) == true)
    }

    @Test("a cluster IP outside 10.96.0.0/16 is refused with Kubernetes' message")
    func clusterIPRange() async throws {
        let svc: JSONValue = ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "x"],
                              "spec": ["clusterIP": "10.0.0.1", "ports": [["port": 80]]]]
        let (status, body) = try await send(try api(), request(.POST, "/api/v1/namespaces/default/services", svc))
        #expect(status == 422)
        #expect(body["message"] == #"Service "x" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/16"#)
    }

    @Test("list pages with limit and continue, and a stale continue token is 410")
    func paging() async throws {
        let api = KubernetesAPI(store: ObjectStore(retainedEvents: 5), token: "t")
        try api.bootstrap()
        for i in 0..<5 {
            _ = try await send(api, request(.POST, "/api/v1/namespaces/default/configmaps", ["metadata": ["name": .string("c\(i)")]]))
        }
        let (_, page1) = try await send(api, request(.GET, "/api/v1/namespaces/default/configmaps?limit=2"))
        #expect(page1["items"]?.arrayValue?.count == 2 && page1["metadata"]?["remainingItemCount"] == 3)
        let token = page1["metadata"]?["continue"]?.stringValue ?? ""
        let (_, page2) = try await send(api, request(.GET, "/api/v1/namespaces/default/configmaps?limit=10&continue=\(token)"))
        #expect(page2["items"]?.arrayValue?.compactMap { $0["metadata"]?["name"]?.stringValue } == ["c2", "c3", "c4"])
        for i in 0..<6 {
            _ = try await send(api, request(.POST, "/api/v1/namespaces/default/configmaps", ["metadata": ["name": .string("d\(i)")]]))
        }
        let (status, body) = try await send(api, request(.GET, "/api/v1/namespaces/default/configmaps?limit=2&continue=\(token)"))
        #expect(status == 410 && body["reason"] == "Expired")
    }

    @Test("aggregated discovery is chosen by Accept and labelled by Content-Type")
    func discovery() async throws {
        var req = request(.GET, "/apis")
        req.headers.replaceOrAdd(name: "Accept", value: "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json")
        guard case .full(_, let contentType, _) = await (try api()).handle(req) else { Issue.record("no body"); return }
        #expect(contentType == "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList")
        let (_, legacy) = try await send(try api(), request(.GET, "/apis"))
        #expect(legacy["kind"] == "APIGroupList")
    }
}
