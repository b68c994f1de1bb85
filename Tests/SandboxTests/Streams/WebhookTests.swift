import Foundation
import KubeClient
import NIOCore
import NIOHTTP1
import NIOPosix
import PKI
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode
import Testing

@Suite("Streams: mutating admission webhooks on pod creation")
struct WebhookTests {
    static let sidecar: JSONValue = [["op": "add", "path": "/spec/containers/-", "value": ["name": "sidecar", "image": "sidecar:1"]]]

    static func configuration(_ name: String, webhooks: [JSONValue]) -> JSONValue {
        ["apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
         "metadata": ["name": .string(name)], "webhooks": .array(webhooks)]
    }

    static func webhook(_ name: String, url: String, caBundle: String, extra: [String: JSONValue] = [:]) -> JSONValue {
        var hook: JSONValue = [
            "name": .string(name), "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "clientConfig": ["url": .string(url), "caBundle": .string(caBundle)],
            "rules": [["operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]]],
        ]
        for (key, value) in extra { hook[key] = value }
        return hook
    }

    static func pod(_ name: String, labels: [String: String] = [:]) -> JSONValue {
        ["apiVersion": "v1", "kind": "Pod",
         "metadata": ["name": .string(name), "labels": .object(labels.mapValues(JSONValue.string))],
         "spec": ["containers": [["name": "app", "image": "app:1"]]]]
    }

    /// POSTs a pod through the REST API as a client would; returns the HTTP status and body.
    static func create(_ cluster: TestCluster, _ pod: JSONValue) async -> (Int, JSONValue) {
        let request = APIRequest(method: .POST, uri: "/api/v1/namespaces/default/pods", headers: ["Content-Type": "application/json"],
                                 body: JSONBytes.encode(pod), user: "tester", groups: ["system:masters"])
        guard case .full(let status, _, let body) = await cluster.api.handle(request) else { return (0, .null) }
        return (status, (try? JSONBytes.decode(body)) ?? .null)
    }

    static func events(_ cluster: TestCluster) -> [JSONValue] {
        cluster.api.store.list(ResourceCatalog.events, namespace: "default").items.map(\.object.value)
    }

    @Test("a webhook on a URL injects a sidecar by JSON patch, for REST creates and for a Deployment's pods; the Event says so")
    func injectsSidecar() async throws {
        let server = try await WebhookTestServer { _ in WebhookTestServer.patch(Self.sidecar) }
        do {
            try await TestCluster.with { cluster in
                let hook = Self.webhook("inject.example.com", url: "https://127.0.0.1:\(server.port)/mutate", caBundle: server.caBundle)
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("inject", webhooks: [hook]))
                let (status, created) = await Self.create(cluster, Self.pod("web"))
                #expect(status == 201, "\(created)")
                #expect(created["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["app", "sidecar"])
                let review = try #require(server.requests.first)
                #expect(review["request"]?["operation"]?.stringValue == "CREATE")
                #expect(review["request"]?["namespace"]?.stringValue == "default")
                #expect(review["request"]?["userInfo"]?["username"]?.stringValue == "tester")
                #expect(review["request"]?["object"]?["metadata"]?["name"]?.stringValue == "web")
                let event = Self.events(cluster).first { $0["involvedObject"]?["name"]?.stringValue == "web" }
                #expect(event?["reason"]?.stringValue == "AdmissionWebhookPatched")
                #expect(event?["message"]?.stringValue?.contains("inject.example.com") == true)

                let deployment: JSONValue = [
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "app", "namespace": "default"],
                    "spec": ["replicas": 1, "selector": ["matchLabels": ["app": "app"]],
                             "template": ["metadata": ["labels": ["app": "app"]], "spec": ["containers": [["name": "app", "image": "app:1"]]]]],
                ]
                _ = try cluster.api.createObject(ResourceCatalog.deployments, deployment)
                try await eventually(.seconds(10), "the Deployment's pod") {
                    cluster.api.store.list(ResourceCatalog.pods, namespace: "default").items.contains {
                        $0.object.value["metadata"]?["labels"]?["app"]?.stringValue == "app"
                            && $0.object.value["spec"]?["containers"]?.arrayValue?.count == 2
                    }
                }
            }
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    @Test("a denial answers like the real server, and the Event records it")
    func denial() async throws {
        let server = try await WebhookTestServer { _ in ["allowed": false, "status": ["message": "pods named bad are not welcome", "code": 403]] }
        do {
            try await TestCluster.with { cluster in
                let hook = Self.webhook("deny.example.com", url: "https://127.0.0.1:\(server.port)/deny", caBundle: server.caBundle)
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("deny", webhooks: [hook]))
                let (status, body) = await Self.create(cluster, Self.pod("bad"))
                #expect(status == 403)
                #expect(body["message"]?.stringValue == "admission webhook \"deny.example.com\" denied the request: pods named bad are not welcome")
                #expect(cluster.api.store.get(ResourceCatalog.pods, namespace: "default", name: "bad") == nil)
                #expect(Self.events(cluster).contains { $0["reason"]?.stringValue == "AdmissionWebhookDenied" && $0["involvedObject"]?["name"]?.stringValue == "bad" })
            }
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    @Test("an unreachable webhook: Ignore creates the pod, Fail answers Internal error with the cause")
    func unreachable() async throws {
        // A port that was just free: nothing listens on it.
        let probe = try await EchoServer.start()
        let port = probe.port
        await probe.close()
        try await TestCluster.with { cluster in
            let ca = try PKITestCA.bundle()
            let ignore = Self.webhook("ignore.example.com", url: "https://127.0.0.1:\(port)/m", caBundle: ca, extra: ["failurePolicy": "Ignore"])
            _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("a-ignore", webhooks: [ignore]))
            let (created, _) = await Self.create(cluster, Self.pod("ignored"))
            #expect(created == 201)
            #expect(Self.events(cluster).contains { $0["reason"]?.stringValue == "AdmissionWebhookIgnored" })

            let fail = Self.webhook("fail.example.com", url: "https://127.0.0.1:\(port)/m", caBundle: ca, extra: ["timeoutSeconds": 2])
            _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("b-fail", webhooks: [fail]))
            let (status, body) = await Self.create(cluster, Self.pod("failed"))
            #expect(status == 500)
            let message = body["message"]?.stringValue ?? ""
            #expect(message.hasPrefix("Internal error occurred: failed calling webhook \"fail.example.com\": failed to call webhook: Post \"https://127.0.0.1:\(port)/m?timeout=2s\""), "\(message)")
            #expect(message.lowercased().contains("connection refused"), "\(message)")
            #expect(cluster.api.store.get(ResourceCatalog.pods, namespace: "default", name: "failed") == nil)
        }
    }

    @Test("TLS is verified against caBundle: a webhook whose certificate another CA signed fails")
    func wrongCA() async throws {
        let server = try await WebhookTestServer { _ in ["allowed": true] }
        do {
            try await TestCluster.with { cluster in
                let hook = Self.webhook("tls.example.com", url: "https://127.0.0.1:\(server.port)/m", caBundle: try PKITestCA.bundle())
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("tls", webhooks: [hook]))
                let (status, body) = await Self.create(cluster, Self.pod("web"))
                #expect(status == 500)
                #expect(body["message"]?.stringValue?.contains("failed calling webhook \"tls.example.com\"") == true, "\(body)")
                #expect(server.requests.isEmpty)
            }
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    @Test("objectSelector and namespaceSelector choose the pods; IfNeeded reinvokes after a later change")
    func selectorsAndReinvocation() async throws {
        // "a-label" labels the pod (and is reinvoked), "b-inject" adds the sidecar afterwards.
        let server = try await WebhookTestServer { review in
            let path = review["request"]?["object"]?["spec"]?["containers"]?.arrayValue?.count ?? 0
            if review["request"]?["object"]?["metadata"]?["labels"]?["seen"] == nil || path > 1 {
                return WebhookTestServer.patch([["op": "add", "path": "/metadata/annotations", "value": ["containers": .string(String(path))]]])
            }
            return ["allowed": true]
        }
        let injector = try await WebhookTestServer { _ in WebhookTestServer.patch(Self.sidecar) }
        do {
            try await TestCluster.with { cluster in
                let label = Self.webhook("label.example.com", url: "https://127.0.0.1:\(server.port)/l", caBundle: server.caBundle, extra: [
                    "reinvocationPolicy": "IfNeeded", "objectSelector": ["matchLabels": ["inject": "yes"]],
                    "namespaceSelector": ["matchExpressions": [["key": "kubernetes.io/metadata.name", "operator": "In", "values": ["default"]]]],
                ])
                let inject = Self.webhook("inject.example.com", url: "https://127.0.0.1:\(injector.port)/i", caBundle: injector.caBundle,
                                          extra: ["objectSelector": ["matchLabels": ["inject": "yes"]]])
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("a-label", webhooks: [label]))
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("b-inject", webhooks: [inject]))
                let (plainStatus, plain) = await Self.create(cluster, Self.pod("plain"))
                #expect(plainStatus == 201)
                #expect(plain["spec"]?["containers"]?.arrayValue?.count == 1)
                #expect(server.requests.isEmpty && injector.requests.isEmpty)
                let (status, created) = await Self.create(cluster, Self.pod("chosen", labels: ["inject": "yes", "seen": "1"]))
                #expect(status == 201, "\(created)")
                #expect(created["spec"]?["containers"]?.arrayValue?.count == 2)
                // Called first with one container (allowed as is), then again after the sidecar came.
                #expect(server.requests.count == 2)
                #expect(created["metadata"]?["annotations"]?["containers"]?.stringValue == "2")
            }
        } catch {
            await server.close()
            await injector.close()
            throw error
        }
        await server.close()
        await injector.close()
    }
}

extension WebhookTests {
    @Test("a service clientConfig reaches a ready endpoint of the service, verified as NAME.NAMESPACE.svc")
    func serviceClientConfig() async throws {
        let server = try await WebhookTestServer { _ in WebhookTestServer.patch(Self.sidecar) }
        do {
            try await TestCluster.with { cluster in
                _ = try cluster.api.createObject(ResourceCatalog.services, [
                    "apiVersion": "v1", "kind": "Service", "metadata": ["name": "webhook", "namespace": "default"],
                    "spec": ["ports": [["name": "https", "port": 443, "targetPort": .number(Double(server.port))]]],
                ])
                _ = try cluster.api.createObject(ResourceCatalog.endpoints, [
                    "apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "webhook", "namespace": "default"],
                    "subsets": [["addresses": [["ip": "127.0.0.1"]], "ports": [["name": "https", "port": .number(Double(server.port))]]]],
                ])
                var hook = Self.webhook("svc.example.com", url: "", caBundle: server.caBundle)
                hook["clientConfig"] = ["service": ["name": "webhook", "namespace": "default", "path": "/mutate"], "caBundle": .string(server.caBundle)]
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("svc", webhooks: [hook]))
                let (status, created) = await Self.create(cluster, Self.pod("web"))
                #expect(status == 201, "\(created)")
                #expect(created["spec"]?["containers"]?.arrayValue?.count == 2)
            }
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }

    @Test("a webhook that never answers fails after timeoutSeconds")
    func timeout() async throws {
        // Accepts connections and never says a word (not even the TLS handshake).
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            try await TestCluster.with { cluster in
                let port = silent.localAddress!.port!
                let hook = Self.webhook("slow.example.com", url: "https://127.0.0.1:\(port)/m", caBundle: try PKITestCA.bundle(), extra: ["timeoutSeconds": 1])
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("slow", webhooks: [hook]))
                let start = ContinuousClock.now
                let (status, body) = await Self.create(cluster, Self.pod("web"))
                let elapsed = ContinuousClock.now - start
                #expect(status == 500)
                #expect(body["message"]?.stringValue?.contains("context deadline exceeded") == true, "\(body)")
                // The call waited for its timeout (1 s) and then gave up: the message says so.
                #expect(elapsed >= .milliseconds(900), "\(elapsed)")
            }
        } catch {
            try? await silent.close()
            throw error
        }
        try? await silent.close()
    }
}

/// A CA bundle no webhook server uses.
enum PKITestCA {
    static func bundle() throws -> String {
        let ca = try CertificateAuthority(commonName: "unrelated-ca")
        return Data(try ca.certificatePEM.utf8).base64EncodedString()
    }
}

extension WebhookTests {
    @Test("a webhook's patch is decoded into the Pod type: a value of the wrong type is the server's 500, an unknown field is dropped")
    func patchedPodIsDecoded() async throws {
        let server = try await WebhookTestServer { review in
            let name = review["request"]?["object"]?["metadata"]?["name"]?.stringValue
            let ports: JSONValue = name == "bad" ? [["containerPort": "eighty"]] : [["containerPort": 80, "sidecarHint": true]]
            return WebhookTestServer.patch([["op": "add", "path": "/spec/containers/0/ports", "value": ports]])
        }
        do {
            try await TestCluster.with { cluster in
                let hook = Self.webhook("ports.example.com", url: "https://127.0.0.1:\(server.port)/m", caBundle: server.caBundle)
                _ = try cluster.api.createObject(ResourceCatalog.mutatingWebhookConfigurations, Self.configuration("ports", webhooks: [hook]))
                let (status, body) = await Self.create(cluster, Self.pod("bad"))
                #expect(status == 500)
                #expect(body["message"]?.stringValue
                        == "Internal error occurred: json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32")
                #expect(cluster.api.store.get(ResourceCatalog.pods, namespace: "default", name: "bad") == nil)
                let (created, pod) = await Self.create(cluster, Self.pod("good"))
                #expect(created == 201, "\(pod)")
                #expect(pod["spec"]?["containers"]?[0]?["ports"] == [["containerPort": 80, "protocol": "TCP"]])
            }
        } catch {
            await server.close()
            throw error
        }
        await server.close()
    }
}
