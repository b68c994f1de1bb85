import AgentConfig
import AgentInjector
import Foundation
import KubeClient
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

    /// `replace` as the manager does it (AgentConfigGenerator.generate(replacing:), then
    /// WorkloadRollout's storeConfig and roll), on a Deployment whose agent is installed: the pods
    /// roll without the app container, its sidecar runs on, the agent listens on the app's ports;
    /// the normal config again (leave) rolls the pods back to exactly the template they had.
    @Test func aReplacedContainerLeavesThePodsAndTheNormalConfigBringsItBack() async throws {
        try await Workstation.with { ws in
            try await ws.expectSuccess(["telepresence", "helm", "install"])
            let manifest = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: shop}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: shop}}
                  template:
                    metadata: {labels: {app: shop}}
                    spec:
                      containers:
                      - name: echo
                        image: sandbox.local/echo:1
                        ports: [{name: http, containerPort: 8080}, {name: tcp, containerPort: 9000}]
                        env:
                        - {name: GREETING, value: hello}
                        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                        readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1}
                      - name: sidecar
                        image: sandbox.local/shell
                        command: [sleep, "3600"]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: shop}
                spec:
                  selector: {app: shop}
                  ports: [{name: http, port: 80, targetPort: http}]
                """
            let applied = try await ws.run(["kubectl", "apply", "-f", "-"], stdin: manifest)
            try #require(applied.status == 0, "\(applied.combined)")
            try await ws.expectSuccess(["kubectl", "rollout", "status", "deployment/shop", "--timeout=60s"])

            // The manager's writes, with the admin's credentials from the host.
            let kube = KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(
                kubeconfig: ws.home.appendingPathComponent("run/sandbox-cluster/\(ws.name)/kubeconfig").path)))
            let rollout = WorkloadRollout(client: kube)
            let image = try await ws.expectSuccess([
                "kubectl", "get", "deployment", "traffic-manager", "-n", "ambassador", "-o", "jsonpath={.spec.template.spec.containers[0].image}",
            ])
            let settings = InjectorSettings(managerNamespace: "ambassador", agentImage: image)
            func write(replacing: String?) async throws {
                let deployment: Deployment = try await kube.get(.deployments, name: "shop", namespace: "default")
                let services = try await kube.list(.services, namespace: "default", as: Service.self).items
                let config = try AgentConfigGenerator.generate(
                    workloadKind: "Deployment", workloadName: "shop", namespace: "default", template: try #require(deployment.spec?.template),
                    services: services, settings: settings, replacing: replacing)
                try await rollout.storeConfig(config)
                try await rollout.roll(kind: "Deployment", name: "shop", namespace: "default")
            }
            /// The pods once the roll is over: every live pod has these containers, all ready.
            func rolled(to containers: [String]) async throws -> [Pod] {
                var pods: [Pod] = []
                try await waitUntil("shop's pods to run with \(containers)", timeout: .seconds(60), pollingEvery: .milliseconds(200)) {
                    pods = try await kube.list(.pods, namespace: "default", options: ListOptions(labelSelector: "app=shop"), as: Pod.self).items
                    return pods.count == 1 && pods.allSatisfy { pod in
                        pod.metadata.deletionTimestamp == nil && pod.spec?.containers.map(\.name) == containers
                            && pod.status?.conditions?.contains { $0.type == "Ready" && $0.status == "True" } == true
                    }
                }
                return pods
            }

            // The agent installed with the normal config (as for an intercept): the original.
            try await write(replacing: nil)
            let before = try await rolled(to: ["echo", "sidecar", "traffic-agent"])
            let original: Deployment = try await kube.get(.deployments, name: "shop", namespace: "default")

            // replace: the app container leaves the pods, the sidecar stays, the agent takes the app's ports.
            try await write(replacing: "echo")
            let replaced = try #require(try await rolled(to: ["sidecar", "traffic-agent"]).first)
            let agent = try #require(replaced.spec?.containers.last)
            #expect(agent.ports?.map { "\($0.name ?? "") \($0.containerPort)" } == ["http 8080", "tcp 9000", "tunnel 9899"])
            #expect(agent.env?.contains { $0.name == "_TEL_APP_A_GREETING" && $0.value == "hello" } == true)
            #expect(replaced.spec?.initContainers == nil)
            let sidecar = replaced.status?.containerStatuses?.first { $0.name == "sidecar" }
            #expect(sidecar?.state?.running != nil, "\(String(describing: sidecar))")
            let podName = try #require(replaced.metadata.name)
            let listening = try await ws.run(["kubectl", "exec", podName, "-c", "sidecar", "--", "python3", "-c", Self.listeningPorts])
            #expect(listening.status == 0, "\(listening.combined)")
            let ports = Set(listening.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) })
            #expect(ports.isSuperset(of: [8080, 9000, 9899]), "listening in the pod: \(ports)")

            // leave: the normal config again; the pods roll back to exactly the template they had.
            try await write(replacing: nil)
            let back = try #require(try await rolled(to: ["echo", "sidecar", "traffic-agent"]).first)
            let after: Deployment = try await kube.get(.deployments, name: "shop", namespace: "default")
            #expect(try JSONValue(encoding: after.spec?.template) == JSONValue(encoding: original.spec?.template))
            #expect(back.metadata.labels?["pod-template-hash"] == before.first?.metadata.labels?["pod-template-hash"])
            #expect(back.spec?.containers.map(\.ports) == before.first?.spec?.containers.map(\.ports))
            let answer = try await ws.run(["kubectl", "exec", try #require(back.metadata.name), "-c", "sidecar", "--", "curl", "-s", "-m", "5", "http://shop/back"])
            #expect(answer.stdout.contains("/back") && answer.stdout.contains("\"pod\":\"shop-"), "\(answer.combined)")
        }
    }

    /// Prints the TCP ports something listens on in the pod's network namespace (/proc/net/tcp*).
    static let listeningPorts = """
        ports = set()
        for name in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = open(name).read().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                if fields[3] == "0A":
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        print(" ".join(str(p) for p in sorted(ports)))
        """
}
