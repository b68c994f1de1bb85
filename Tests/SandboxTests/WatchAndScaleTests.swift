import Foundation
import KubeClient
import NIOHTTP1
import Synchronization
import Testing

import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// Watches through the API layer (no sockets) and the list/watch figures of the issue's
/// performance goals, measured on the debug build.
@Suite("watch and scale")
struct WatchAndScaleTests {
    func request(_ uri: String, accept: String = "application/json") -> APIRequest {
        APIRequest(method: .GET, uri: uri, headers: HTTPHeaders([("Authorization", "Bearer t"), ("Accept", accept)]), body: [], user: "")
    }

    func api() throws -> KubernetesAPI {
        let api = KubernetesAPI(store: ObjectStore(), token: "t")
        try api.bootstrap()
        return api
    }

    /// Runs a watch response to its end and returns its lines.
    func collect(_ response: APIResponse) async -> [JSONValue] {
        guard case .stream(_, let producer) = response else { return [] }
        let lines = Mutex<[JSONValue]>([])
        await producer(StreamWriter { bytes in
            for line in bytes.split(separator: UInt8(ascii: "\n")) {
                if let value = try? JSONValue(data: Data(line)) { lines.withLock { $0.append(value) } }
            }
        })
        return lines.withLock { $0 }
    }

    @Test("a watch without resourceVersion starts with ADDED for what exists and ends at timeoutSeconds")
    func initialEventsAndTimeout() async throws {
        let api = try api()
        let started = Date()
        let events = await collect(await api.handle(request("/api/v1/namespaces?watch=True&timeoutSeconds=1")))
        #expect(Date().timeIntervalSince(started) >= 0.9)
        #expect(events.compactMap { $0["type"]?.stringValue } == Array(repeating: "ADDED", count: 4))
    }

    @Test("a watch from a resourceVersion older than the window gets one ERROR event with 410 Expired")
    func tooOld() async throws {
        let api = KubernetesAPI(store: ObjectStore(retainedEvents: 2), token: "t")
        try api.bootstrap()
        let events = await collect(await api.handle(request("/api/v1/namespaces?watch=1&resourceVersion=1")))
        #expect(events.count == 1 && events[0]["type"] == "ERROR" && events[0]["object"]?["code"] == 410)
    }

    @Test("a label-selector watch reports an object that stops matching as DELETED")
    func selectorTransitions() async throws {
        let api = try api()
        let configMaps = ResourceCatalog.lookup(apiVersion: "v1", plural: "configmaps")!
        let rv = api.store.currentResourceVersion
        try api.store.create(configMaps, ["metadata": ["name": "c", "namespace": "default", "labels": ["app": "a"]]])
        try api.store.update(configMaps, namespace: "default", name: "c") { current in
            var v = current.value
            v["metadata"]?["labels"] = ["app": "b"]
            return v
        }
        let events = await collect(await api.handle(request(
            "/api/v1/namespaces/default/configmaps?watch=true&labelSelector=app%3Da&resourceVersion=\(rv)&timeoutSeconds=1")))
        #expect(events.compactMap { $0["type"]?.stringValue } == ["ADDED", "DELETED"])
    }

    @Test("5,000 pods: list time, Table list time, watch delivery time (printed)")
    func scale() async throws {
        let api = try api()
        for i in 0..<5000 {
            _ = try api.createObject(ResourceCatalog.pods, [
                "metadata": ["name": .string("pod-\(i)"), "namespace": "default", "labels": ["app": "scale"]],
                "spec": ["containers": [["name": "c", "image": "nginx:1.25"]]],
            ])
        }
        var started = ContinuousClock.now
        guard case .full(200, _, let body) = await api.handle(request("/api/v1/pods")) else { Issue.record("list failed"); return }
        let listTime = ContinuousClock.now - started
        #expect(try JSONValue(data: Data(body))["items"]?.arrayValue?.count == 5000)
        started = ContinuousClock.now
        _ = await api.handle(request("/api/v1/namespaces/default/pods?limit=500",
                                     accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"))
        let tableTime = ContinuousClock.now - started

        // 100 watches, then one change: how long until every watch has it.
        let subscriptions = try (0..<100).map { _ in try api.store.subscribe(ResourceCatalog.pods, namespace: "default", after: nil) }
        defer { subscriptions.forEach { $0.cancel() } }
        started = ContinuousClock.now
        try api.store.update(ResourceCatalog.pods, namespace: "default", name: "pod-1") { current in
            var v = current.value
            v["metadata"]?["labels"]?["touched"] = "yes"
            return v
        }
        for subscription in subscriptions {
            var iterator = subscription.events.makeAsyncIterator()
            _ = await iterator.next()
        }
        let watchTime = ContinuousClock.now - started
        // The times are sandbox-bench's figures (release build); here every watch saw the change.
        print("sandbox scale (debug build): list 5000 pods \(listTime), Table page of 500 \(tableTime), change seen by 100 watches \(watchTime)")
    }
}
