import Foundation
import Testing
import TestSupport

/// The agent injector as installed: the real traffic-manager pod (process node) serves the
/// webhook with the certificate the install made, the sandbox's API server calls it over TLS
/// with the install's caBundle, and `helm uninstall` takes every agent out again.
@Suite(.serialized, .enabled(where: .root))
struct InjectionTests {
    @Test func theInstalledManagerInjectsAnnotatedWorkloadsAndUninstallRemovesThem() async throws {
        try await Workstation.with { ws in
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata:
                      labels: {app: web}
                      annotations: {telepresence.io/inject-traffic-agent: enabled}
                    spec:
                      containers:
                      - name: echo
                        image: sandbox.local/echo:1
                        ports: [{name: http, containerPort: 8080}]
                        env: [{name: GREETING, value: hello}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: web}
                  ports: [{name: http, port: 80, targetPort: http}]
                """
            let applied = try await ws.run(["kubectl", "apply", "-f", "-"], stdin: manifest)
            #expect(applied.status == 0, "\(applied.combined)")
            var containers: [String] = []
            try await waitUntil("web's pod has the traffic-agent", timeout: .seconds(30), pollingEvery: .milliseconds(200)) {
                let out = try await ws.run(["kubectl", "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[*].name}"]).stdout
                containers = out.split(separator: " ").map(String.init)
                return containers.contains("traffic-agent")
            }
            let ports = try await ws.expectSuccess(["kubectl", "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].spec.containers[0].ports[0].name}"])
            #expect(ports == "tm-http")
            let stored = try await ws.expectSuccess(["kubectl", "get", "configmap", "telepresence-agents", "-o", "jsonpath={.data.web}"])
            #expect(stored.contains("\"workloadKind\" : \"Deployment\""))

            try await ws.expectSuccess(["telepresence", "helm", "uninstall"])
            let maps = try await ws.run(["kubectl", "get", "configmap", "telepresence-agents"])
            #expect(maps.status != 0)
            let webhooks = try await ws.expectSuccess(["kubectl", "get", "mutatingwebhookconfigurations", "-o", "name"])
            #expect(!webhooks.contains("agent-injector"))
            try await waitUntil("web's pods have no traffic-agent", timeout: .seconds(30), pollingEvery: .milliseconds(200)) {
                let out = try await ws.run(["kubectl", "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].spec.containers[*].name}"]).stdout
                return !out.contains("traffic-agent") && out.contains("echo")
            }
        }
    }
}
