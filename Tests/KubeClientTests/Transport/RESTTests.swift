import Foundation
import KubeClient
import NIOCore
import Testing

@Suite struct RESTTests {
    @Test func createGetUpdateDeleteATypedObject() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let created = try await client.create(.configMaps, TestConfigMap(name: "cfg", data: ["a": "1"]))
            #expect(created.metadata.namespace == "default")
            let version = try #require(created.metadata.resourceVersion)

            var fetched: TestConfigMap = try await client.get(.configMaps, name: "cfg")
            #expect(fetched.data == ["a": "1"])
            fetched.data = ["a": "2"]
            let updated = try await client.update(.configMaps, fetched)
            #expect(updated.data == ["a": "2"])
            #expect(updated.metadata.resourceVersion != version)

            try await client.delete(.configMaps, name: "cfg")
            let error = try await expectKubeError { let _: TestConfigMap = try await client.get(.configMaps, name: "cfg") }
            #expect(error.isNotFound)
            #expect(server.requests(path: "/api/v1/namespaces/default/configmaps/cfg").map(\.method) == ["GET", "PUT", "DELETE", "GET"])
        }
    }

    @Test func notFoundReadsLikeKubectl() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let error = try await expectKubeError { let _: JSONValue = try await client.get(.deployments, name: "web") }
            #expect(error.isNotFound)
            #expect(error.description == #"deployments.apps "web" not found in namespace "default""#)
        }
    }

    @Test func staleUpdateIsAConflictAndDuplicateCreateAlreadyExists() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let created = try await client.create(.configMaps, TestConfigMap(name: "cfg"))
            _ = try await client.update(.configMaps, created)  // bumps the resourceVersion
            let conflict = try await expectKubeError { _ = try await client.update(.configMaps, created) }
            #expect(conflict.isConflict)
            #expect(conflict.code == 409)
            #expect(conflict.description.contains("the object has been modified"))

            let duplicate = try await expectKubeError { _ = try await client.create(.configMaps, TestConfigMap(name: "cfg")) }
            #expect(duplicate.isAlreadyExists)
            #expect(!duplicate.isConflict)
        }
    }

    @Test func invalidObjectCarriesItsCauses() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let error = try await expectKubeError { _ = try await client.create(.configMaps, TestConfigMap(name: "invalid")) }
            #expect(error.isInvalid)
            let cause = try #require(error.status?.details?.causes?.first)
            #expect(cause.field == "data.key")
            #expect(cause.reason == "FieldValueInvalid")
            #expect(error.description.contains("data.key: Invalid value"))
        }
    }

    @Test func nonStatusErrorBodyIsReported() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let error = try await expectKubeError { let _: JSONValue = try await client.get(.nodes, name: "html-error") }
            guard case .unexpectedResponse(let code, let body, _) = error else { throw TestFailure("unexpected \(error)") }
            #expect(code == 502)
            #expect(body.contains("Bad Gateway"))
            #expect(error.description.contains("HTTP 502"))
        }
    }

    @Test func listFiltersByLabelAndListAllFollowsContinueTokens() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            for index in 0..<7 {
                _ = try await client.create(.configMaps, TestConfigMap(name: "cm-\(index)", labels: ["app": index % 2 == 0 ? "web" : "db"]))
            }
            let page = try await client.list(.configMaps, options: ListOptions(labelSelector: "app=web", limit: 2), as: TestConfigMap.self)
            #expect(page.items.map(\.metadata.name) == ["cm-0", "cm-2"])
            #expect(page.continueToken != nil)

            let all = try await client.listAll(.configMaps, options: ListOptions(labelSelector: "app=web", limit: 2), as: TestConfigMap.self)
            #expect(all.items.map(\.metadata.name) == ["cm-0", "cm-2", "cm-4", "cm-6"])
            #expect(all.resourceVersion != nil)
            let lists = server.requests(path: "/api/v1/namespaces/default/configmaps").filter { $0.method == "GET" }
            #expect(lists.count == 3)  // the first page, then two via listAll's continue tokens
            #expect(lists.last?.queryValue("continue") == "2")
            #expect(lists.last?.uri.contains("labelSelector=app%3Dweb") == true)
        }
    }

    @Test func queryValuesArePercentEncoded() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            _ = try await client.list(.pods, namespace: KubeClient.allNamespaces, options: ListOptions(
                labelSelector: "tier in (a,b),app!=x y", fieldSelector: "status.phase=Running"), as: JSONValue.self)
            let request = try #require(server.requests.first)
            #expect(request.path == "/api/v1/pods")
            #expect(request.uri.contains("labelSelector=tier%20in%20%28a%2Cb%29%2Capp%21%3Dx%20y"))
            #expect(request.queryValue("labelSelector") == "tier in (a,b),app!=x y")
            #expect(request.queryValue("fieldSelector") == "status.phase=Running")
        }
    }

    @Test func patchTypesSendTheirContentType() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            _ = try await client.create(.configMaps, TestConfigMap(name: "cfg", data: ["a": "1"]))
            let merged: TestConfigMap = try await client.patch(
                .configMaps, name: "cfg", type: .merge, patch: JSONValue.object(["data": .object(["b": .string("2")])]))
            #expect(merged.data == ["a": "1", "b": "2"])
            let strategic: TestConfigMap = try await client.patch(
                .configMaps, name: "cfg", type: .strategicMerge, patch: ["data": ["a": Optional<String>.none]])
            #expect(strategic.data == ["b": "2"])
            let jsonPatched: TestConfigMap = try await client.patch(
                .configMaps, name: "cfg", type: .json, patch: [["op": "replace", "path": "/data/b", "value": "3"]])
            #expect(jsonPatched.data == ["b": "3"])
            let applied: TestConfigMap = try await client.patch(
                .configMaps, name: "applied", type: .apply(fieldManager: "telepresence", force: true),
                patch: TestConfigMap(name: "applied", data: ["x": "y"]))
            #expect(applied.data == ["x": "y"])

            let patches = server.requests.filter { $0.method == "PATCH" }
            #expect(patches.map { $0.header("Content-Type") ?? "" } == [
                "application/merge-patch+json", "application/strategic-merge-patch+json",
                "application/json-patch+json", "application/apply-patch+yaml",
            ])
            #expect(patches.last?.queryValue("fieldManager") == "telepresence")
            #expect(patches.last?.queryValue("force") == "true")
        }
    }

    @Test func deleteSendsOptionsAndCanReturnTheObject() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            _ = try await client.create(.configMaps, TestConfigMap(name: "cfg"))
            let deleted = try await client.deleteReturningObject(
                .configMaps, name: "cfg",
                options: DeleteOptions(propagationPolicy: .foreground, gracePeriodSeconds: 0,
                                       preconditions: .init(uid: "u1")), as: TestConfigMap.self)
            #expect(deleted?.metadata.name == "cfg")
            let body = try JSONValue(data: Data(try #require(server.requests.last?.body).utf8))
            #expect(body == .object([
                "propagationPolicy": .string("Foreground"), "gracePeriodSeconds": .number(0),
                "preconditions": .object(["uid": .string("u1")]),
            ]))
        }
    }

    @Test func statusAndScaleSubresources() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let deployment: JSONValue = .object([
                "metadata": .object(["name": .string("web")]), "spec": .object(["replicas": .number(1)]),
            ])
            _ = try await client.create(.deployments, deployment)
            let status: JSONValue = try await client.getStatus(.deployments, name: "web")
            #expect(status["metadata"]?["name"] == .string("web"))
            let scaled = try await client.updateScale(.deployments, name: "web", replicas: 3)
            #expect(scaled.replicas == 3)
            #expect(try await client.getScale(.deployments, name: "web").replicas == 3)
            #expect(server.requests.contains { $0.method == "PUT" && $0.path == "/apis/apps/v1/namespaces/default/deployments/web/scale" })
        }
    }

    @Test func logsAsTextAndFollowedAsLines() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server))
            let text = try await client.logs(pod: "web-1", options: LogOptions(container: "app", tailLines: 2))
            #expect(text == "second line\nthird line\n")
            #expect(server.requests.last?.uri == "/api/v1/namespaces/default/pods/web-1/log?container=app&tailLines=2")

            var lines: [String] = []
            for try await line in try await client.followLogs(pod: "web-1").lines { lines.append(line) }
            #expect(lines == ["first line", "second line", "third line"])
            #expect(server.requests.last?.queryValue("follow") == "true")
        }
    }

    @Test func basePathIsPrependedAndConnectionsAreReused() async throws {
        var options = TestAPIServer.Options()
        options.basePath = "/k8s/clusters/c1"
        try await withTestServer(options) { server in
            let client = KubeClient(configuration: configuration(for: server))
            for _ in 0..<3 { _ = try await client.list(.namespaces, as: JSONValue.self) }
            #expect(server.requests.map(\.path) == Array(repeating: "/k8s/clusters/c1/api/v1/namespaces", count: 3))
        }
    }

    @Test func requestTimeoutIsEnforced() async throws {
        try await withTestServer { server in
            let client = KubeClient(configuration: configuration(for: server, requestTimeout: .milliseconds(300)))
            let error = try await expectKubeError { let _: JSONValue = try await client.get(.nodes, name: "never-answers") }
            guard case .timedOut = error else { throw TestFailure("unexpected \(error)") }
            #expect(error.description.contains("did not answer within 0.3s"))
        }
    }
}
