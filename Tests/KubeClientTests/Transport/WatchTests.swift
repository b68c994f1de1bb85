import Foundation
import KubeClient
import Testing

@Suite struct WatchTests {
    static func configMap(_ name: String, rv: String, data: [String: String] = [:]) -> JSONValue {
        .object([
            "apiVersion": .string("v1"), "kind": .string("ConfigMap"),
            "metadata": .object(["name": .string(name), "namespace": .string("default"), "resourceVersion": .string(rv)]),
            "data": .object(data.mapValues { .string($0) }),
        ])
    }

    static let fastBackoff = ExponentialBackoff(initial: .milliseconds(10), maximum: .milliseconds(50))

    /// Collects the first `count` events of a watch.
    static func first(_ count: Int, of sequence: WatchSequence<TestConfigMap>) async throws -> [WatchEvent<TestConfigMap>] {
        var events: [WatchEvent<TestConfigMap>] = []
        for try await event in sequence {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }

    static func describe(_ event: WatchEvent<TestConfigMap>) -> String {
        switch event {
        case .added(let object): "ADDED \(object.metadata.name)@\(object.metadata.resourceVersion ?? "")"
        case .modified(let object): "MODIFIED \(object.metadata.name)@\(object.metadata.resourceVersion ?? "")"
        case .deleted(let object): "DELETED \(object.metadata.name)@\(object.metadata.resourceVersion ?? "")"
        case .bookmark(let version): "BOOKMARK @\(version)"
        case .error(let status): "ERROR \(status.code ?? 0)"
        case .relisted(let items, let version): "RELISTED \(items.map(\.metadata.name).joined(separator: ",")) @\(version)"
        }
    }

    @Test func eventsInOrderAcrossSplitFramesAndResumeFromTheBookmarkAfterADrop() async throws {
        try await withTestServer { server in
            let added = try String(decoding: JSONValue.object(["type": .string("ADDED"), "object": Self.configMap("a", rv: "11")]).data(), as: UTF8.self)
            let cut = added.index(added.startIndex, offsetBy: 17)
            server.addWatchScript([
                .raw(String(added[..<cut])), .raw(String(added[cut...]) + "\n"),
                .event("MODIFIED", Self.configMap("a", rv: "12", data: ["k": "v"])),
                .event("BOOKMARK", .object(["kind": .string("ConfigMap"), "apiVersion": .string("v1"),
                                            "metadata": .object(["resourceVersion": .string("15")])])),
                .drop,
            ])
            server.addWatchScript([.event("DELETED", Self.configMap("a", rv: "16")), .hold])
            let client = KubeClient(configuration: configuration(for: server))
            let events = try await Self.first(4, of: client.watch(
                .configMaps, options: WatchOptions(resourceVersion: "10", backoff: Self.fastBackoff), as: TestConfigMap.self))
            #expect(events.map(Self.describe) == ["ADDED a@11", "MODIFIED a@12", "BOOKMARK @15", "DELETED a@16"])

            let watches = server.requests(path: "/api/v1/namespaces/default/configmaps")
            #expect(watches.map { $0.queryValue("resourceVersion") } == ["10", "15"])
            #expect(watches.allSatisfy { $0.queryValue("watch") == "true" && $0.queryValue("allowWatchBookmarks") == "true" })
        }
    }

    @Test func endOfStreamResumesFromTheLastObjectVersion() async throws {
        try await withTestServer { server in
            server.addWatchScript([.event("ADDED", Self.configMap("a", rv: "21")), .end])
            server.addWatchScript([.event("MODIFIED", Self.configMap("a", rv: "22")), .hold])
            let client = KubeClient(configuration: configuration(for: server))
            let events = try await Self.first(2, of: client.watch(
                .configMaps, options: WatchOptions(labelSelector: "app=web", backoff: Self.fastBackoff), as: TestConfigMap.self))
            #expect(events.map(Self.describe) == ["ADDED a@21", "MODIFIED a@22"])
            let watches = server.requests(path: "/api/v1/namespaces/default/configmaps")
            #expect(watches.map { $0.queryValue("resourceVersion") } == [nil, "21"])
            #expect(watches.allSatisfy { $0.queryValue("labelSelector") == "app=web" })
        }
    }

    @Test func goneErrorEventRelistsAndResumesFromTheListVersion() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            _ = try await client.create(.configMaps, TestConfigMap(name: "x"))
            _ = try await client.create(.configMaps, TestConfigMap(name: "y"))
            server.addWatchScript([.errorGone])
            server.addWatchScript([.event("ADDED", Self.configMap("z", rv: "500")), .hold])
            let events = try await Self.first(2, of: client.watch(
                .configMaps, options: WatchOptions(resourceVersion: "1", backoff: Self.fastBackoff), as: TestConfigMap.self))
            let listVersion = server.state.withLock { String($0.store.resourceVersion) }
            #expect(events.map(Self.describe) == ["RELISTED x,y @\(listVersion)", "ADDED z@500"])
            let requests = server.requests(path: "/api/v1/namespaces/default/configmaps").filter { $0.method == "GET" }
            #expect(requests.map { $0.queryValue("watch") ?? "list" } == ["true", "list", "true"])
            #expect(requests.last?.queryValue("resourceVersion") == listVersion)
        }
    }

    @Test func httpGoneAlsoRelists() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            _ = try await client.create(.configMaps, TestConfigMap(name: "only"))
            server.addWatchScript([.httpGone])
            let events = try await Self.first(1, of: client.watch(
                .configMaps, options: WatchOptions(resourceVersion: "1", backoff: Self.fastBackoff), as: TestConfigMap.self))
            #expect(events.map(Self.describe).first?.hasPrefix("RELISTED only @") == true)
        }
    }

    @Test func cancellingTheConsumerClosesTheServerSideConnection() async throws {
        try await withTestServer { server in
            server.addWatchScript([.event("ADDED", Self.configMap("a", rv: "31")), .hold])
            let client = KubeClient(configuration: configuration(for: server))
            let watch = client.watch(.configMaps, options: WatchOptions(backoff: Self.fastBackoff), as: TestConfigMap.self)
            let consumer = Task {
                var seen = 0
                for try await _ in watch { seen += 1 }
                return seen
            }
            try await server.wait(for: "the watch to start") { $0.openWatches == 1 }
            consumer.cancel()
            try await server.wait(for: "the watch connection to close") { $0.closedWatches == 1 }
            _ = try? await consumer.value
        }
    }

    @Test func forbiddenWatchFailsInsteadOfRetrying() async throws {
        var options = TestAPIServer.Options()
        options.tokens = ["right"]
        try await withTestServer(options) { server in
            let client = KubeClient(configuration: configuration(for: server, credentials: StaticToken(token: "wrong")))
            let error = try await expectKubeError {
                _ = try await Self.first(1, of: client.watch(.configMaps, options: WatchOptions(backoff: Self.fastBackoff), as: TestConfigMap.self))
            }
            #expect(error.isUnauthorized)
        }
    }
}
