import AgentConfig
import AgentInjector
import Foundation
import KubeClient
import Sandbox
import Testing

/// `replace`: the config that holds a container (the agent takes every port it declares on the
/// port itself) and the pod patch that leaves that container out while its sidecars stay.
@Suite("The agent config and the pod patch of a replaced container")
struct ReplaceTests {
    /// echo (two TCP ports and a UDP one) beside a proxy sidecar with a metrics port that
    /// Service `metrics` targets; Service `echo` targets echo's `http` by name.
    static let template = Fixtures.template(containers: [
        Fixtures.echo(),
        Container(name: "proxy", image: "sandbox.local/proxy", ports: [ContainerPort(name: "metrics", containerPort: 9100)]),
    ])
    static let services = [
        Fixtures.service("echo", ports: [ServicePort(name: "web", port: 80, targetPort: .string("http"))]),
        Fixtures.service("metrics", ports: [ServicePort(port: 9100, targetPort: .string("metrics"))]),
    ]

    static func generate(
        _ template: PodTemplateSpec = template, _ services: [Service] = services, replacing: String?
    ) throws(InjectorError) -> AgentConfig {
        try AgentConfigGenerator.generate(
            workloadKind: "Deployment", workloadName: "echo", namespace: "shop", template: template, services: services,
            settings: Fixtures.settings, replacing: replacing)
    }

    @Test func theReplacedContainerGivesTheAgentEveryPortItDeclaresOnThePortItself() throws {
        let config = try Self.generate(replacing: "echo")
        let echo = try #require(config.containers.first { $0.name == "echo" })
        #expect(echo.replace)
        #expect(echo.intercepts.map { "\($0.containerPortName) \($0.containerPort)/\($0.protocol) -> \($0.agentPort)" } == [
            "http 8080/TCP -> 8080", "tcp 9000/TCP -> 9000", "udp 9001/UDP -> 9001",
        ])
        #expect(echo.intercepts.allSatisfy { !$0.needsRedirect })
        // A port a Service targets keeps the Service; the others have none.
        #expect(echo.intercepts[0].serviceName == "echo" && echo.intercepts[0].servicePort == 80 && echo.intercepts[0].servicePortName == "web")
        #expect(echo.intercepts[1].serviceName.isEmpty && echo.intercepts[2].serviceName.isEmpty)
        #expect(echo.envPrefix == "A_" && echo.mounts == ["/data"])
        // The sidecar is engaged as before, its agent port clear of the replaced ports.
        let proxy = try #require(config.containers.first { $0.name == "proxy" })
        #expect(!proxy.replace)
        #expect(proxy.intercepts.map(\.agentPort) == [9900])
        #expect(!config.needsInitContainer)
        #expect(try AgentConfig.decode(config.encoded()) == config)

        // Without `replacing` (leave), the same workload has the config of an intercept again.
        let normal = try Self.generate(replacing: nil)
        #expect(normal.containers.allSatisfy { !$0.replace })
        #expect(normal.containers[0].intercepts.map(\.agentPort) == [9900])
        #expect(try normal.encoded() != config.encoded())
    }

    @Test func aReplacedContainerNeedsNoServiceNorPorts() throws {
        // No Service at all: an intercept is refused, a replace is not.
        #expect(throws: InjectorError.self) { try Self.generate(Self.template, [], replacing: nil) }
        let config = try Self.generate(Self.template, [], replacing: "echo")
        #expect(config.containers[0].intercepts.count == 3)
        #expect(config.containers[1].intercepts.isEmpty)

        let portless = Fixtures.template(containers: [Container(name: "worker", image: "sandbox.local/shell"), Fixtures.echo()])
        let worker = try Self.generate(portless, [], replacing: "worker")
        #expect(worker.containers.map(\.name) == ["worker", "echo"])
        #expect(worker.containers[0].replace && worker.containers[0].intercepts.isEmpty)
        #expect(worker.containers[1].intercepts.isEmpty)
    }

    @Test func anUnknownContainerIsNamedWithTheWorkloadsContainers() {
        #expect {
            try Self.generate(replacing: "web")
        } throws: { error in
            "\(error)" == "The deployment echo in namespace shop has no container web; name one of its containers: echo, proxy."
        }
        #expect(throws: InjectorError.self) { try Self.generate(replacing: AgentNames.container) }
    }

    @Test func otherContainersAgentPortsAvoidTheReplacedPorts() throws {
        let template = Fixtures.template(containers: [
            Container(name: "echo", image: "sandbox.local/echo", ports: [ContainerPort(name: "http", containerPort: 9900)]),
            Container(name: "proxy", image: "sandbox.local/proxy", ports: [ContainerPort(name: "metrics", containerPort: 9100)]),
        ])
        let config = try Self.generate(template, Self.services, replacing: "echo")
        #expect(config.containers[0].intercepts.map(\.agentPort) == [9900])
        #expect(config.containers[1].intercepts.map(\.agentPort) == [9901])

        let tunnel = Fixtures.template(containers: [
            Container(name: "echo", image: "sandbox.local/echo", ports: [ContainerPort(containerPort: AgentNames.defaultTunnelPort)]),
        ])
        #expect(throws: InjectorError.self) { try Self.generate(tunnel, [], replacing: "echo") }
    }

    // MARK: the patch

    /// PatchTests' pod (echo with http 8080 and tcp 9000, then a sidecar), a numeric targetPort
    /// Service on 9000 (which would need the init container if echo stayed).
    static func replacedPod() throws -> (config: AgentConfig, pod: Pod) {
        let (json, pod) = try PatchTests.pod()
        let config = try AgentConfigGenerator.generate(
            workloadKind: "Deployment", workloadName: "echo", namespace: "shop",
            template: PodTemplateSpec(metadata: ObjectMeta(labels: pod.metadata.labels), spec: pod.spec),
            services: [Fixtures.service("echo", ports: [ServicePort(port: 9000, targetPort: .int(9000))])],
            settings: Fixtures.settings, replacing: "echo")
        let patched = try AgentPatch.make(pod: pod, config: config).apply(to: json)
        let errors = PodSpecValidation.podSpec(patched["spec"], field: "spec")
        #expect(errors.isEmpty, "the sandbox refuses the patched pod: \(errors)")
        return (config, try patched.decode(as: Pod.self))
    }

    @Test func theReplacedContainerLeavesThePodAndTheAgentTakesItsPorts() throws {
        let (config, pod) = try Self.replacedPod()
        let spec = try #require(pod.spec)
        #expect(spec.containers.map(\.name) == ["sidecar", "traffic-agent"])
        #expect(spec.initContainers == nil)
        let agent = spec.containers[1]
        #expect(agent.ports == [
            ContainerPort(name: "http", containerPort: 8080, protocol: "TCP"),
            ContainerPort(name: "tcp", containerPort: 9000, protocol: "TCP"),
            ContainerPort(name: "tunnel", containerPort: 9899, protocol: "TCP"),
        ])
        // The replaced container's env, envFrom and volumes still reach the agent.
        let env = Dictionary(uniqueKeysWithValues: (agent.env ?? []).map { ($0.name, $0) })
        #expect(env["_TEL_APP_A_HTTP_PORT"]?.value == "8080")
        #expect(env["_TEL_APP_A_URL"]?.value == "http://localhost:$(_TEL_APP_A_HTTP_PORT)/$(ECHO_SERVICE_HOST)/$$(HTTP_PORT)")
        #expect(env["_TEL_APP_B_MODE"]?.value == "side")
        #expect(agent.envFrom?.first == EnvFromSource(prefix: "_TEL_APP_A_", configMapRef: ConfigMapEnvSource(name: "bulk")))
        #expect(agent.volumeMounts?.map(\.mountPath).contains("/tel_app_mounts/echo/data") == true)
        #expect(spec.volumes?.map(\.name) == ["data", "kube-api-access-x", "traffic-config", "tel-agent-tmp"])
        #expect(pod.metadata.labels?[AgentNames.workloadNameLabel] == "echo")

        // Injected all the same: the webhook leaves it alone, and a second patch changes nothing.
        #expect(AgentPatch.make(pod: pod, config: config).operations.isEmpty)
        #expect(InjectionPolicy.decide(pod: pod, workload: WorkloadReference(kind: "Deployment", name: "echo"), hasStoredConfig: true)
            == .skip("the pod already has a traffic-agent container"))
    }

    @Test func removingAContainerKeepsTheIndexesOfTheOthersRenames() throws {
        // [sidecar, echo (replaced), api (its http port taken over by name)]: api's rename must
        // hit api, whose index the removal of echo shifts.
        let api = Container(
            name: "api", image: "sandbox.local/echo", ports: [ContainerPort(name: "api", containerPort: 7000, protocol: "TCP")],
            readinessProbe: Probe(tcpSocket: TCPSocketAction(port: .string("api"))))
        let containers = [Container(name: "sidecar", image: "busybox"), Fixtures.echo(), api]
        let template = Fixtures.template(containers: containers)
        let config = try Self.generate(
            template, [Fixtures.service("api", ports: [ServicePort(port: 80, targetPort: .string("api"))])], replacing: "echo")
        let pod = Pod(metadata: ObjectMeta(generateName: "echo-", labels: ["app": "echo"]), spec: PodSpec(
            containers: containers, volumes: [Volume(name: "data", emptyDir: EmptyDirVolumeSource())]))
        let json = try JSONValue(encoding: pod)
        let patched = try AgentPatch.make(pod: pod, config: config).apply(to: json)
        #expect(PodSpecValidation.podSpec(patched["spec"], field: "spec").isEmpty)
        let spec = try #require(try patched.decode(as: Pod.self).spec)
        #expect(spec.containers.map(\.name) == ["sidecar", "api", "traffic-agent"])
        #expect(spec.containers[1].ports?.map(\.name) == ["tm-api"])
        #expect(spec.containers[1].readinessProbe?.tcpSocket?.port == .string("tm-api"))
        #expect(spec.containers[2].ports?.map { "\($0.name ?? "") \($0.containerPort)/\($0.protocol ?? "")" } == [
            "http 8080/TCP", "tcp 9000/TCP", "udp 9001/UDP", "api 9900/TCP", "tunnel 9899/TCP",
        ])
    }

    @Test func aContainerWithoutPortsLeavesThePodAndTheAgentOnlyHasItsTunnel() throws {
        let containers = [Container(name: "worker", image: "sandbox.local/shell", env: [EnvVar(name: "QUEUE", value: "jobs")])]
        let pod = Pod(metadata: ObjectMeta(generateName: "worker-"), spec: PodSpec(containers: containers))
        let config = try Self.generate(Fixtures.template(containers: containers), [], replacing: "worker")
        let patched = try AgentPatch.make(pod: pod, config: config).apply(to: JSONValue(encoding: pod))
        #expect(PodSpecValidation.podSpec(patched["spec"], field: "spec").isEmpty)
        let spec = try #require(try patched.decode(as: Pod.self).spec)
        #expect(spec.containers.map(\.name) == ["traffic-agent"])
        #expect(spec.containers[0].ports == [ContainerPort(name: "tunnel", containerPort: 9899, protocol: "TCP")])
        #expect(spec.containers[0].env?.contains { $0.name == "_TEL_APP_A_QUEUE" && $0.value == "jobs" } == true)
    }
}
