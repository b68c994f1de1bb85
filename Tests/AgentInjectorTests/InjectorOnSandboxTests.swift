import AgentConfig
import AgentInjector
import Foundation
import KubeClient
import ManagerInstall
import Sandbox
import TestSupport
import Testing
import TrafficManager

/// The install's webhook objects, the webhook called by the sandbox's API server over TLS with the
/// install's caBundle, the rollout and its removal, and `helm uninstall`, on the sandbox (virtual
/// node). The manager runs in process with the manager's service account's token, so any
/// permission the install does not grant shows up in the sandbox's denial log.
@Suite(.serialized) struct InjectorOnSandboxTests {
    static let serviceAccount = "system:serviceaccount:ambassador:traffic-manager"

    struct Cluster {
        let server: APIServer
        let admin: KubeClient
        /// The manager's own credentials (its service account's token).
        let manager: KubeClient
        let installer: ManagerInstaller
    }

    /// A sandbox with the traffic-manager installed in `ambassador` and, in process, a manager
    /// that serves the webhook with the certificate the install keeps in its Secret; the Service
    /// `agent-injector` is pointed at it (its pod on the virtual node runs nothing).
    static func withInstall(_ body: (Cluster) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inj-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await APIServer.start()
        var manager: TrafficManager?
        do {
            let kubeconfig = folder.appendingPathComponent("kubeconfig")
            try server.writeKubeconfig(to: kubeconfig)
            let admin = KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: kubeconfig.path)))
            let installer = ManagerInstaller(client: admin, namespace: "ambassador")
            try await installer.install(values: .defaults, createNamespace: true)

            // The manager's credentials and its mounted certificate.
            let token = try await server.requestToken(namespace: "ambassador", serviceAccount: "traffic-manager")
            let managerConfig = folder.appendingPathComponent("manager-kubeconfig")
            try server.kubeconfig(token: token).write(to: managerConfig, atomically: true, encoding: .utf8)
            let managerKube = KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: managerConfig.path)))
            let secret: Secret = try await admin.get(.secrets, name: AgentInjectorTLS.secretName, namespace: "ambassador")
            let tls = folder.appendingPathComponent("tls")
            try FileManager.default.createDirectory(at: tls, withIntermediateDirectories: true)
            for (key, value) in secret.data ?? [:] { try value.write(to: tls.appendingPathComponent(key)) }
            let resolvConf = folder.appendingPathComponent("resolv.conf")
            try "search ambassador.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\n".write(to: resolvConf, atomically: true, encoding: .utf8)
            var settings = ManagerSettings(namespace: "ambassador", serverPort: 0, serverHost: "127.0.0.1", resolvConfPath: resolvConf.path)
            settings.agentInjector = AgentInjectorSettings(tlsDirectory: tls.path, port: 0, agentImage: "ghcr.io/telepresence-swift/traffic:test")
            let started = try await TrafficManager.start(settings: settings, client: managerKube)
            manager = started
            let port = try #require(started.agentInjector?.port)

            // The Service's endpoint is the in-process webhook.
            let _: JSONValue = try await admin.patch(
                .services, name: AgentInjectorTLS.serviceName, namespace: "ambassador", type: .merge, patch: ["spec": ["selector": nil]] as JSONValue)
            let endpoints: JSONValue = [
                "apiVersion": "v1", "kind": "Endpoints", "metadata": ["name": "agent-injector", "namespace": "ambassador"],
                "subsets": [["addresses": [["ip": "127.0.0.1"]], "ports": [["name": "https", "port": .number(Double(port)), "protocol": "TCP"]]]],
            ]
            do {
                let _: JSONValue = try await admin.create(.endpoints, endpoints, namespace: "ambassador")
            } catch let error as KubeError where error.isAlreadyExists {
                let _: JSONValue = try await admin.patch(.endpoints, name: "agent-injector", namespace: "ambassador", type: .merge, patch: endpoints)
            }
            _ = try await admin.create(.namespaces, Namespace(metadata: ObjectMeta(name: "shop")))
            try await body(Cluster(server: server, admin: admin, manager: managerKube, installer: installer))
            await started.stop()
            try await server.shutdown()
        } catch {
            await manager?.stop()
            try? await server.shutdown()
            throw error
        }
    }

    static func echoDeployment(_ name: String, annotations: [String: String]? = nil) -> Deployment {
        Deployment(
            metadata: ObjectMeta(name: name, namespace: "shop"),
            spec: DeploymentSpec(
                replicas: 1, selector: LabelSelector(matchLabels: ["app": name]),
                template: PodTemplateSpec(
                    metadata: ObjectMeta(labels: ["app": name], annotations: annotations),
                    spec: PodSpec(containers: [Container(
                        name: "echo", image: "sandbox.local/echo",
                        ports: [ContainerPort(name: "http", containerPort: 8080), ContainerPort(name: "tcp", containerPort: 9000)],
                        env: [EnvVar(name: "HTTP_PORT", value: "8080")],
                        readinessProbe: Probe(tcpSocket: TCPSocketAction(port: .string("http")), periodSeconds: 1))]))))
    }

    static func echoService(_ name: String, targetPort: IntOrString) -> Service {
        Service(
            metadata: ObjectMeta(name: name, namespace: "shop"),
            spec: ServiceSpec(ports: [ServicePort(name: "web", port: 80, targetPort: targetPort)], selector: ["app": name]))
    }

    /// The live (not terminating) pods of the app.
    static func pods(_ kube: KubeClient, app: String) async throws -> [Pod] {
        try await kube.list(.pods, namespace: "shop", options: ListOptions(labelSelector: "app=\(app)"), as: Pod.self).items
            .filter { $0.metadata.deletionTimestamp == nil }
    }

    static func hasAgent(_ pod: Pod) -> Bool { pod.spec?.containers.contains { $0.name == AgentNames.container } ?? false }

    @Test func theInstallMakesTheWebhookObjects() async throws {
        try await Self.withInstall { cluster in
            let secret: Secret = try await cluster.admin.get(.secrets, name: "mutator-webhook-tls", namespace: "ambassador")
            #expect(secret.type == "kubernetes.io/tls")
            let ca = try #require(secret.data?["ca.crt"])
            let webhooks: MutatingWebhookConfiguration = try await cluster.admin.get(.mutatingWebhookConfigurations, name: "agent-injector-webhook-ambassador")
            let webhook = try #require(webhooks.webhooks?.first)
            #expect(webhook.clientConfig.caBundle == ca)
            #expect(webhook.clientConfig.service?.name == "agent-injector" && webhook.clientConfig.service?.path == "/traffic-agent")
            #expect(webhook.failurePolicy == "Ignore" && webhook.sideEffects == "None" && webhook.timeoutSeconds == 5)
            #expect(webhook.admissionReviewVersions == ["v1"])
            #expect(webhook.rules?.first?.operations == ["CREATE"] && webhook.rules?.first?.resources == ["pods"])
            #expect(webhook.namespaceSelector?.matchExpressions?.first?.values?.contains("kube-system") == true)
            let service: Service = try await cluster.admin.get(.services, name: "agent-injector", namespace: "ambassador")
            #expect(service.spec?.ports?.first?.port == 443 && service.spec?.ports?.first?.targetPort == .string("https"))

            // A pod the injector cannot give an agent (enabled, but no Service) still starts, as it was.
            _ = try await cluster.admin.create(.deployments, Self.echoDeployment("lonely", annotations: [AgentNames.injectAnnotation: "enabled"]))
            try await waitUntil("lonely has a pod", timeout: .seconds(20)) { try await !Self.pods(cluster.admin, app: "lonely").isEmpty }
            let lonely = try #require(try await Self.pods(cluster.admin, app: "lonely").first)
            #expect(!Self.hasAgent(lonely) && lonely.spec?.containers.first?.ports?.first?.name == "http")
            await #expect(throws: KubeError.self) {
                let _: ConfigMap = try await cluster.admin.get(.configMaps, name: AgentNames.configMap, namespace: "shop")
            }

            // An upgrade keeps the certificate (and does not roll the manager for it).
            func certificateAnnotation() async throws -> String? {
                let deployment: Deployment = try await cluster.admin.get(.deployments, name: "traffic-manager", namespace: "ambassador")
                return deployment.spec?.template.metadata?.annotations?["telepresence.io/agent-injector-certificate"]
            }
            let fingerprint = try #require(try await certificateAnnotation())
            try await cluster.installer.upgrade(values: .defaults)
            let kept: Secret = try await cluster.admin.get(.secrets, name: "mutator-webhook-tls", namespace: "ambassador")
            #expect(kept.data == secret.data)
            #expect(try await certificateAnnotation() == fingerprint)

            // A certificate that is not good any more is made anew, and the manager rolls for it.
            var broken = kept
            broken.data?["tls.crt"] = Data("not a certificate".utf8)
            _ = try await cluster.admin.update(.secrets, broken, namespace: "ambassador")
            try await cluster.installer.upgrade(values: .defaults)
            let renewed: Secret = try await cluster.admin.get(.secrets, name: "mutator-webhook-tls", namespace: "ambassador")
            #expect(renewed.data?["tls.crt"] != secret.data?["tls.crt"] && renewed.data?["ca.crt"] != secret.data?["ca.crt"])
            #expect(AgentInjectorTLS(secret: renewed, namespace: "ambassador") != nil)
            #expect(try await certificateAnnotation() != fingerprint)
            let renewedWebhooks: MutatingWebhookConfiguration = try await cluster.admin.get(.mutatingWebhookConfigurations, name: "agent-injector-webhook-ambassador")
            #expect(renewedWebhooks.webhooks?.first?.clientConfig.caBundle == renewed.data?["ca.crt"])
        }
    }

    @Test func aReplicaSetAndAStatefulSetRollAndRollBack() async throws {
        try await Self.withInstall { cluster in
            let kube = cluster.admin
            let rollout = WorkloadRollout(client: cluster.manager)
            let settings = InjectorSettings(managerNamespace: "ambassador", agentImage: "ghcr.io/telepresence-swift/traffic:test")
            let echo = Self.echoDeployment("x").spec!.template.spec!
            for (kind, name) in [("ReplicaSet", "rs"), ("StatefulSet", "sts")] {
                let template = PodTemplateSpec(metadata: ObjectMeta(labels: ["app": name]), spec: echo)
                _ = try await kube.create(.services, Self.echoService(name, targetPort: .string("http")))
                if kind == "ReplicaSet" {
                    _ = try await kube.create(.replicaSets, ReplicaSet(
                        metadata: ObjectMeta(name: name, namespace: "shop"),
                        spec: ReplicaSetSpec(replicas: 2, selector: LabelSelector(matchLabels: ["app": name]), template: template)))
                } else {
                    _ = try await kube.create(.statefulSets, StatefulSet(
                        metadata: ObjectMeta(name: name, namespace: "shop"),
                        spec: StatefulSetSpec(replicas: 1, selector: LabelSelector(matchLabels: ["app": name]), template: template, serviceName: name)))
                }
                try await waitUntil("\(name) has pods", timeout: .seconds(20)) { try await !Self.pods(kube, app: name).isEmpty }
                func stored() async throws -> JSONValue {
                    kind == "ReplicaSet"
                        ? try JSONValue(encoding: (try await kube.get(.replicaSets, name: name, namespace: "shop", as: ReplicaSet.self)).spec?.template)
                        : try JSONValue(encoding: (try await kube.get(.statefulSets, name: name, namespace: "shop", as: StatefulSet.self)).spec?.template)
                }
                let before = try await stored()
                let services = try await kube.list(.services, namespace: "shop", as: Service.self).items
                let config = try AgentConfigGenerator.generate(
                    workloadKind: kind, workloadName: name, namespace: "shop", template: template, services: services, settings: settings)
                try await rollout.storeConfig(config)
                try await rollout.roll(kind: kind, name: name, namespace: "shop")
                try await waitUntil("\(name)'s pods have the agent", timeout: .seconds(20)) {
                    let pods = try await Self.pods(kube, app: name)
                    return !pods.isEmpty && pods.allSatisfy(Self.hasAgent)
                }
                let pod = try #require(try await Self.pods(kube, app: name).first)
                #expect(pod.metadata.labels?[AgentNames.workloadKindLabel] == kind && pod.metadata.labels?[AgentNames.workloadNameLabel] == name)
                #expect(try await rollout.removeAgent(kind: kind, name: name, namespace: "shop"))
                try await waitUntil("\(name)'s pods have no agent", timeout: .seconds(20)) {
                    let pods = try await Self.pods(kube, app: name)
                    return !pods.isEmpty && pods.allSatisfy { !Self.hasAgent($0) }
                }
                #expect(try await stored() == before, "\(kind)")
            }
            let map: ConfigMap? = try? await kube.get(.configMaps, name: AgentNames.configMap, namespace: "shop")
            #expect(map == nil)
            let denials = cluster.server.api.denials.entries.filter { $0.user == Self.serviceAccount }
            #expect(denials.isEmpty, "\(denials)")
        }
    }

    @Test func anEnabledDeploymentGetsTheAgentAndUninstallRemovesEverything() async throws {
        try await Self.withInstall { cluster in
            let kube = cluster.admin
            _ = try await kube.create(.services, Self.echoService("web", targetPort: .string("http")))
            _ = try await kube.create(.deployments, Self.echoDeployment("web", annotations: [AgentNames.injectAnnotation: "enabled"]))
            var injected: Pod?
            try await waitUntil("the pod of web has the traffic-agent", timeout: .seconds(20)) {
                injected = try await Self.pods(kube, app: "web").first
                return injected != nil
            }
            let pod = try #require(injected)
            #expect(Self.hasAgent(pod))
            let app = try #require(pod.spec?.containers.first)
            #expect(app.ports?.first?.name == "tm-http")
            #expect(app.readinessProbe?.tcpSocket?.port == .string("tm-http"))
            #expect(pod.spec?.containers.last?.ports?.first == ContainerPort(name: "http", containerPort: 9900, protocol: "TCP"))
            #expect(pod.spec?.containers.last?.image == "ghcr.io/telepresence-swift/traffic:test")
            #expect(pod.metadata.labels?[AgentNames.workloadNameLabel] == "web")
            let map: ConfigMap = try await kube.get(.configMaps, name: AgentNames.configMap, namespace: "shop")
            let config = try AgentConfig.decode(try #require(map.data?["web"]))
            #expect(config.workloadKind == "Deployment" && config.managerHost == "traffic-manager.ambassador")

            // A second Deployment, rolled on demand as the engagements do.
            _ = try await kube.create(.services, Self.echoService("api", targetPort: .int(8080)))
            _ = try await kube.create(.deployments, Self.echoDeployment("api"))
            try await waitUntil("api has a pod", timeout: .seconds(20)) { try await !Self.pods(kube, app: "api").isEmpty }
            #expect(try await Self.pods(kube, app: "api").allSatisfy { !Self.hasAgent($0) })
            let rollout = WorkloadRollout(client: cluster.manager)
            let before: Deployment = try await kube.get(.deployments, name: "api", namespace: "shop")
            let services = try await kube.list(.services, namespace: "shop", as: Service.self).items
            let apiConfig = try AgentConfigGenerator.generate(
                workloadKind: "Deployment", workloadName: "api", namespace: "shop", template: before.spec!.template, services: services,
                settings: InjectorSettings(managerNamespace: "ambassador", agentImage: "ghcr.io/telepresence-swift/traffic:test"))
            try await rollout.storeConfig(apiConfig)
            try await rollout.roll(kind: "Deployment", name: "api", namespace: "shop")
            try await waitUntil("api's pods have the agent and its init container", timeout: .seconds(20)) {
                let pods = try await Self.pods(kube, app: "api")
                return !pods.isEmpty && pods.allSatisfy { Self.hasAgent($0) && $0.spec?.initContainers?.first?.name == AgentNames.initContainer }
            }
            #expect(try await Self.pods(kube, app: "api").first?.spec?.containers.first?.ports?.first?.name == "http")

            // Removing the agent rolls back to exactly the template there was.
            #expect(try await rollout.removeAgent(kind: "Deployment", name: "api", namespace: "shop"))
            let after: Deployment = try await kube.get(.deployments, name: "api", namespace: "shop")
            #expect(try JSONValue(encoding: after.spec?.template) == JSONValue(encoding: before.spec?.template))
            try await waitUntil("api's pods have no agent", timeout: .seconds(20)) {
                let pods = try await Self.pods(kube, app: "api")
                return !pods.isEmpty && pods.allSatisfy { !Self.hasAgent($0) && $0.spec?.initContainers == nil }
            }
            #expect(try await !rollout.removeAgent(kind: "Deployment", name: "api", namespace: "shop"))

            // The manager needed no permission its install does not grant.
            let denials = cluster.server.api.denials.entries.filter { $0.user == Self.serviceAccount }
            #expect(denials.isEmpty, "\(denials)")

            // helm uninstall removes every agent: no ConfigMap, no webhook, no restartedAt, no agent.
            try await rollout.roll(kind: "Deployment", name: "api", namespace: "shop")
            try await rollout.storeConfig(apiConfig)
            try await cluster.installer.uninstall()
            await #expect(throws: KubeError.self) {
                let _: ConfigMap = try await kube.get(.configMaps, name: AgentNames.configMap, namespace: "shop")
            }
            await #expect(throws: KubeError.self) {
                let _: MutatingWebhookConfiguration = try await kube.get(.mutatingWebhookConfigurations, name: "agent-injector-webhook-ambassador")
            }
            for name in ["web", "api"] {
                let deployment: Deployment = try await kube.get(.deployments, name: name, namespace: "shop")
                #expect(deployment.spec?.template.metadata?.annotations?[AgentNames.restartedAtAnnotation] == nil)
            }
            try await waitUntil("api's pods have no agent after the uninstall", timeout: .seconds(20)) {
                let pods = try await Self.pods(kube, app: "api")
                return !pods.isEmpty && pods.allSatisfy { !Self.hasAgent($0) }
            }
        }
    }
}
