import AgentConfig
import AgentInjector
import Foundation
import KubeClient
import Testing

/// The pod patch applied (KubeClient's JSONPatch) to a pod as the API server sends it.
@Suite("The agent patch of a pod")
struct PatchTests {
    /// A pod of Deployment echo as the API server hands it to the webhook (ReplicaSet owner, no name yet).
    static let podJSON = #"""
    {
      "apiVersion": "v1", "kind": "Pod",
      "metadata": {
        "generateName": "echo-5d8f9c7b6-", "namespace": "shop",
        "labels": {"app": "echo", "pod-template-hash": "5d8f9c7b6"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "echo-5d8f9c7b6", "uid": "rs-1", "controller": true, "blockOwnerDeletion": true}]
      },
      "spec": {
        "containers": [
          {
            "name": "echo", "image": "sandbox.local/echo",
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"name": "tcp", "containerPort": 9000, "protocol": "TCP"}],
            "env": [
              {"name": "HTTP_PORT", "value": "8080"},
              {"name": "GREETING", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}},
              {"name": "URL", "value": "http://localhost:$(HTTP_PORT)/$(ECHO_SERVICE_HOST)/$$(HTTP_PORT)"}
            ],
            "envFrom": [{"configMapRef": {"name": "bulk"}}, {"prefix": "S_", "secretRef": {"name": "creds"}}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "kube-api-access-x", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
            "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 1},
            "livenessProbe": {"tcpSocket": {"port": "http"}},
            "startupProbe": {"tcpSocket": {"port": 9000}}
          },
          {"name": "sidecar", "image": "busybox", "env": [{"name": "MODE", "value": "side"}]}
        ],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "kube-api-access-x", "projected": {"sources": []}}]
      }
    }
    """#

    static func pod() throws -> (JSONValue, Pod) {
        let json = try JSONValue(data: Data(podJSON.utf8))
        return (json, try json.decode(as: Pod.self))
    }

    static func config(services: [Service]) throws -> AgentConfig {
        let (_, pod) = try pod()
        return try AgentConfigGenerator.generate(
            workloadKind: "Deployment", workloadName: "echo", namespace: "shop",
            template: PodTemplateSpec(metadata: ObjectMeta(labels: pod.metadata.labels), spec: pod.spec), services: services,
            settings: Fixtures.settings)
    }

    static func patched(_ config: AgentConfig) throws -> Pod {
        let (json, pod) = try pod()
        let patch = AgentPatch.make(pod: pod, config: config)
        // The patch travels as the webhook sends it: base64 JSON in an AdmissionResponse.
        let response = AdmissionResponse.allowing(uid: "u", patch: patch)
        let decoded = try AdmissionReview.decodeResponse(AdmissionReview(response: response).encoded(), uid: "u")
        return try decoded.jsonPatch().apply(to: json).decode(as: Pod.self)
    }

    @Test func aSymbolicTargetPortRenamesTheAppPortAndItsProbes() throws {
        let config = try Self.config(services: [Fixtures.service("echo", ports: [ServicePort(name: "web", port: 80, targetPort: .string("http"))])])
        let pod = try Self.patched(config)
        let spec = try #require(pod.spec)
        #expect(spec.containers.map(\.name) == ["echo", "sidecar", "traffic-agent"])
        #expect(spec.initContainers == nil)
        let app = spec.containers[0]
        #expect(app.ports?.map(\.name) == ["tm-http", "tcp"])
        #expect(app.readinessProbe?.httpGet?.port == .string("tm-http"))
        #expect(app.livenessProbe?.tcpSocket?.port == .string("tm-http"))
        #expect(app.startupProbe?.tcpSocket?.port == .int(9000))
        let agent = spec.containers[2]
        #expect(agent.image == Fixtures.settings.agentImage)
        #expect(agent.args == ["agent"])
        #expect(agent.ports == [
            ContainerPort(name: "http", containerPort: 9900, protocol: "TCP"),
            ContainerPort(name: "tunnel", containerPort: 9899, protocol: "TCP"),
        ])
        #expect(agent.readinessProbe?.exec?.command == ["test", "-f", "/tmp/agent/ready"])
        #expect(pod.metadata.labels?["telepresence.io/workloadName"] == "echo")
        #expect(pod.metadata.labels?["telepresence.io/workloadKind"] == "Deployment")
        #expect(pod.metadata.labels?["telepresence.io/workloadEnabled"] == "true")
        #expect(pod.metadata.labels?["app"] == "echo")
        #expect(pod.metadata.annotations?["telepresence.io/inject-traffic-agent"] == "enabled")
        let volumes = spec.volumes ?? []
        #expect(volumes.map(\.name) == ["data", "kube-api-access-x", "traffic-config", "tel-agent-tmp"])
        #expect(volumes[2].configMap == ConfigMapVolumeSource(name: "telepresence-agents", items: [KeyToPath(key: "echo", path: "config.yaml")]))
        #expect(volumes[3].emptyDir != nil)
    }

    @Test func theAgentGetsTheAppEnvWithReferencesRewritten() throws {
        let config = try Self.config(services: [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("http"))])])
        let agent = try #require(try Self.patched(config).spec?.containers.last)
        let env = agent.env ?? []
        #expect(env.prefix(2).map(\.name) == ["_TEL_AGENT_POD_IP", "_TEL_AGENT_NAME"])
        #expect(env[0].valueFrom?.fieldRef?.fieldPath == "status.podIP")
        #expect(env[1].valueFrom?.fieldRef?.fieldPath == "metadata.name")
        let byName = Dictionary(uniqueKeysWithValues: env.map { ($0.name, $0) })
        #expect(byName["_TEL_APP_A_HTTP_PORT"]?.value == "8080")
        #expect(byName["_TEL_APP_A_GREETING"]?.valueFrom?.configMapKeyRef == ConfigMapKeySelector(name: "settings", key: "greeting"))
        // HTTP_PORT is declared before: rewritten; a service link stays; $$ stays escaped.
        #expect(byName["_TEL_APP_A_URL"]?.value == "http://localhost:$(_TEL_APP_A_HTTP_PORT)/$(ECHO_SERVICE_HOST)/$$(HTTP_PORT)")
        #expect(byName["_TEL_APP_B_MODE"]?.value == "side")
        #expect(agent.envFrom == [
            EnvFromSource(prefix: "_TEL_APP_A_", configMapRef: ConfigMapEnvSource(name: "bulk")),
            EnvFromSource(prefix: "_TEL_APP_A_S_", secretRef: SecretEnvSource(name: "creds")),
        ])
        let mounts = agent.volumeMounts ?? []
        #expect(mounts.map(\.mountPath) == [
            "/etc/traffic-agent", "/tmp", "/tel_app_mounts/echo/data", "/tel_app_mounts/echo/var/run/secrets/kubernetes.io/serviceaccount",
        ])
        #expect(mounts[0].name == "traffic-config")
        #expect(mounts[3].readOnly == true)
    }

    @Test func ignoredVolumeMountsAreNotRemounted() throws {
        var config = try Self.config(services: [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("http"))])])
        config.containers[0].mounts = ["/data"]
        var annotated = try Self.pod().1
        annotated.metadata.annotations = [AgentNames.injectIgnoreVolumeMounts: "kube-api-access-x"]
        let patched = try AgentPatch.make(pod: annotated, config: config).apply(to: JSONValue(encoding: annotated)).decode(as: Pod.self)
        let mounts = patched.spec?.containers.last?.volumeMounts?.map(\.mountPath) ?? []
        #expect(mounts == ["/etc/traffic-agent", "/tmp", "/tel_app_mounts/echo/data"])
    }

    @Test func aNumericTargetPortAddsTheInitContainerAndKeepsTheAppPort() throws {
        let config = try Self.config(services: [Fixtures.service("echo", ports: [ServicePort(port: 9000, targetPort: .int(9000))])])
        let spec = try #require(try Self.patched(config).spec)
        let initContainer = try #require(spec.initContainers?.first)
        #expect(spec.initContainers?.count == 1)
        #expect(initContainer.name == "tel-agent-init")
        #expect(initContainer.image == Fixtures.settings.agentImage)
        #expect(initContainer.args == ["agent-init"])
        #expect(initContainer.securityContext?["capabilities"]?["add"] == ["NET_ADMIN"])
        #expect(initContainer.volumeMounts == [VolumeMount(name: "traffic-config", mountPath: "/etc/traffic-agent")])
        #expect(spec.containers[0].ports?.map(\.name) == ["http", "tcp"])
        #expect(spec.containers[0].readinessProbe?.httpGet?.port == .string("http"))
        #expect(spec.containers.last?.ports?.first == ContainerPort(containerPort: 9900, protocol: "TCP"))
    }

    @Test func aPodAlreadyInjectedIsLeftAlone() throws {
        let config = try Self.config(services: [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("http"))])])
        let once = try Self.patched(config)
        #expect(AgentPatch.make(pod: once, config: config).operations.isEmpty)
        #expect(InjectionPolicy.decide(pod: once, workload: WorkloadReference(kind: "Deployment", name: "echo"), hasStoredConfig: true)
            == .skip("the pod already has a traffic-agent container"))
    }

    @Test func aPodWithoutVolumesLabelsOrAnnotationsGetsThem() throws {
        let json: JSONValue = [
            "apiVersion": "v1", "kind": "Pod", "metadata": ["generateName": "echo-"],
            "spec": ["containers": [["name": "echo", "image": "sandbox.local/echo", "ports": [["name": "http", "containerPort": 8080]]]]],
        ]
        let pod = try json.decode(as: Pod.self)
        let config = try AgentConfigGenerator.generate(
            workloadKind: "StatefulSet", workloadName: "echo", namespace: "shop",
            template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "echo"]), spec: pod.spec),
            services: [Fixtures.service("echo", headless: true, ports: [ServicePort(port: 80, targetPort: .string("http"))])],
            settings: Fixtures.settings)
        let patched = try AgentPatch.make(pod: pod, config: config).apply(to: json).decode(as: Pod.self)
        #expect(patched.spec?.volumes?.map(\.name) == ["traffic-config", "tel-agent-tmp"])
        #expect(patched.metadata.labels?["telepresence.io/workloadKind"] == "StatefulSet")
        #expect(patched.spec?.initContainers?.map(\.name) == ["tel-agent-init"])
        // Headless: redirected, not renamed.
        #expect(patched.spec?.containers[0].ports?.first?.name == "http")
    }

    @Test func hiddenNamesFitFifteenCharacters() {
        #expect(AgentPatch.hiddenName("http") == "tm-http")
        #expect(AgentPatch.hiddenName("a-very-long-nam") == "tm-a-very-long-")
    }
}

@Suite("Whether a pod gets an agent")
struct DecisionTests {
    static func pod(annotation: String? = nil, owner: String? = "ReplicaSet") -> Pod {
        Pod(
            metadata: ObjectMeta(
                annotations: annotation.map { [AgentNames.injectAnnotation: $0] },
                ownerReferences: owner.map { [OwnerReference(apiVersion: "apps/v1", kind: $0, name: "echo-abc", uid: "u", controller: true)] }),
            spec: PodSpec(containers: [Container(name: "echo")]))
    }

    static let deployment = OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: "echo", uid: "d", controller: true)

    @Test func theWorkloadComesFromTheOwners() {
        #expect(InjectionPolicy.workload(of: Self.pod(), replicaSetOwner: Self.deployment) == WorkloadReference(kind: "Deployment", name: "echo"))
        #expect(InjectionPolicy.workload(of: Self.pod(), replicaSetOwner: nil) == WorkloadReference(kind: "ReplicaSet", name: "echo-abc"))
        #expect(InjectionPolicy.workload(of: Self.pod(owner: "StatefulSet"), replicaSetOwner: nil) == WorkloadReference(kind: "StatefulSet", name: "echo-abc"))
        #expect(InjectionPolicy.workload(of: Self.pod(owner: "Job"), replicaSetOwner: nil) == nil)
        #expect(InjectionPolicy.workload(of: Self.pod(owner: nil), replicaSetOwner: nil) == nil)
    }

    @Test(arguments: [
        // annotation, has a workload, has a stored config, expected
        (nil as String?, true, true, "inject"),
        (nil, true, false, "skip"),
        ("enabled", true, false, "generate"),
        ("enabled", true, true, "inject"),
        ("disabled", true, true, "skip"),
        ("disabled", true, false, "skip"),
        ("enabled", false, false, "skip"),
        (nil, false, true, "skip"),
    ])
    func theDecisionTable(annotation: String?, hasWorkload: Bool, hasConfig: Bool, expected: String) {
        let workload = hasWorkload ? WorkloadReference(kind: "Deployment", name: "echo") : nil
        let decision = InjectionPolicy.decide(pod: Self.pod(annotation: annotation), workload: workload, hasStoredConfig: hasConfig)
        let got = switch decision {
        case .skip: "skip"
        case .inject: "inject"
        case .generateAndInject: "generate"
        }
        #expect(got == expected, "\(annotation ?? "no annotation"), workload \(hasWorkload), config \(hasConfig): \(decision)")
    }
}
