import Foundation
import KubeClient
import Sandbox
@testable import SandboxAPIServer
import Testing
import TestSupport

/// EndpointSlices as a current cluster keeps them (the v1 Endpoints API is deprecated since
/// 1.33): the controller's slices for selector services, the mirror of hand-written Endpoints,
/// the API server's own `kubernetes` slice, read back by kubectl and the Python client.
@Suite("EndpointSlices")
struct EndpointSliceTests {
    static let app = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: nginx:1.25
                ports: [{containerPort: 8080, name: http}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: http}]
        """

    func slices(_ cluster: TestCluster, service: String) -> [JSONValue] {
        cluster.server.store.list(ResourceCatalog.endpointSlices, namespace: "default").items.map(\.object)
            .filter { $0.labels["kubernetes.io/service-name"] == service }.map(\.value)
    }

    @Test("a selector service's slice follows its pods: resolved named ports, readiness, owner, labels")
    func controllerSlices() async throws {
        try await TestCluster.with { cluster in
            let api = cluster.server.api
            _ = try api.createObject(ResourceCatalog.deployments, [
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "namespace": "default"],
                "spec": [
                    "replicas": 2, "selector": ["matchLabels": ["app": "web"]],
                    "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [[
                        "name": "web", "image": "nginx:1.25", "ports": [["containerPort": 8080, "name": "http"]],
                    ]]]],
                ],
            ])
            _ = try api.createObject(ResourceCatalog.services, [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": "default"],
                "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80, "targetPort": "http"]]],
            ])
            try await waitUntil("the slice to list both pods") {
                slices(cluster, service: "web").first?["endpoints"]?.arrayValue?.count == 2
            }
            let slice = try #require(slices(cluster, service: "web").first)
            #expect(slices(cluster, service: "web").count == 1)
            #expect(slice["addressType"] == "IPv4")
            #expect(slice["metadata"]?["name"]?.stringValue?.hasPrefix("web-") == true)
            #expect(slice["metadata"]?["labels"]?["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io")
            #expect(slice["metadata"]?["ownerReferences"]?[0]?["kind"] == "Service")
            #expect(slice["ports"] == [["name": "http", "port": 8080, "protocol": "TCP"]])
            for endpoint in slice["endpoints"]?.arrayValue ?? [] {
                #expect(endpoint["conditions"]?["ready"] == true && endpoint["conditions"]?["terminating"] == false)
                #expect(endpoint["addresses"]?[0]?.stringValue?.hasPrefix("10.244.") == true)
                #expect(endpoint["targetRef"]?["kind"] == "Pod")
            }

            // Scaled to zero: the slice stays, without endpoints.
            _ = try api.store.update(ResourceCatalog.deployments, namespace: "default", name: "web") { current in
                var value = current.value
                value["spec"]?["replicas"] = 0
                return value
            }
            try await waitUntil("the slice to be empty") { slices(cluster, service: "web").first?["endpoints"]?.arrayValue?.isEmpty == true }

            // A slice deleted by hand comes back; the service's deletion takes it along.
            let name = try #require(slices(cluster, service: "web").first?["metadata"]?["name"]?.stringValue)
            _ = try api.store.delete(ResourceCatalog.endpointSlices, namespace: "default", name: name)
            try await waitUntil("the slice to be made again") { slices(cluster, service: "web").count == 1 }
            _ = try api.deleteObject(ResourceCatalog.services, namespace: "default", name: "web", propagation: nil, gracePeriod: nil)
            try await waitUntil("the slices to go with their service") { slices(cluster, service: "web").isEmpty }
        }
    }

    @Test("hand-written Endpoints of a service without a selector are mirrored; the kubernetes service has its own")
    func mirroredSlices() async throws {
        try await TestCluster.with { cluster in
            let api = cluster.server.api
            _ = try api.createObject(ResourceCatalog.services, [
                "apiVersion": "v1", "kind": "Service", "metadata": ["name": "external", "namespace": "default"],
                "spec": ["ports": [["name": "db", "port": 5432, "protocol": "TCP"]]],
            ])
            _ = try api.createObject(ResourceCatalog.endpoints, [
                "apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "external", "namespace": "default"],
                "subsets": [["addresses": [["ip": "192.0.2.10"]], "notReadyAddresses": [["ip": "192.0.2.11"]],
                             "ports": [["name": "db", "port": 5432, "protocol": "TCP"]]]],
            ])
            try await waitUntil("the mirror slice") { !slices(cluster, service: "external").isEmpty }
            let slice = try #require(slices(cluster, service: "external").first)
            #expect(slice["metadata"]?["labels"]?["endpointslice.kubernetes.io/managed-by"] == "endpointslicemirroring-controller.k8s.io")
            #expect(slice["endpoints"]?.arrayValue?.map { $0["conditions"]?["ready"] } == [true, false])
            let kubernetes = try #require(slices(cluster, service: "kubernetes").first)
            #expect(kubernetes["ports"]?[0]?["name"] == "https")
            #expect(kubernetes["endpoints"]?[0]?["addresses"]?[0]?.stringValue?.isEmpty == false)
        }
    }

    @Test("kubectl lists slices with their columns", .enabled(if: Kubectl.runnable("1.33")))
    func kubectl() async throws {
        try await TestCluster.with { cluster in
            let k = try cluster.kubectl("1.33")
            var r = try await k.run(["apply", "-f", "-"], stdin: Self.app)
            #expect(r.status == 0, "\(r.output)")
            try await waitUntil("both pods in the slice") {
                slices(cluster, service: "web").first?["endpoints"]?.arrayValue?.count == 2
            }
            r = try await k.run(["get", "endpointslices", "-l", "kubernetes.io/service-name=web"])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("ADDRESSTYPE") && r.stdout.contains("IPv4") && r.stdout.contains("8080") && r.stdout.contains("10.244."), "\(r.output)")
            r = try await k.run(["get", "endpointslices.discovery.k8s.io", "kubernetes", "-o", "jsonpath={.ports[0].name}"])
            #expect(r.stdout == "https", "\(r.output)")
        }
    }

    @Test("the Python client reads slices through DiscoveryV1Api", .enabled(if: PythonClientTests.available || Kubectl.isCI))
    func pythonClient() async throws {
        try #require(PythonClientTests.available, "the Python kubernetes client is not importable; pip install kubernetes==33.1.0")
        try await TestCluster.with { cluster in
            let script = cluster.directory.appendingPathComponent("slices.py")
            try """
                import sys
                from kubernetes import client, config
                config.load_kube_config(sys.argv[1])
                s = client.DiscoveryV1Api().read_namespaced_endpoint_slice("kubernetes", "default")
                print("slice", s.address_type, s.ports[0].name, s.endpoints[0].conditions.ready)
                """.write(to: script, atomically: true, encoding: .utf8)
            let result = try await ProcessRunner.run([PythonClientTests.python, script.path, cluster.kubeconfig.path])
            #expect(result.status == 0 && result.stdout.contains("slice IPv4 https True"), "\(result.combined)")
        }
    }
}
