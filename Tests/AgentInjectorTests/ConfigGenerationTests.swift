import AgentConfig
import AgentInjector
import KubeClient
import Testing

/// Pod templates and Services as a user writes them.
enum Fixtures {
    static let settings = InjectorSettings(managerNamespace: "ambassador", agentImage: "ghcr.io/telepresence-swift/traffic:0.1.0")

    static func template(
        labels: [String: String] = ["app": "echo"], annotations: [String: String]? = nil, containers: [Container]? = nil
    ) -> PodTemplateSpec {
        PodTemplateSpec(
            metadata: ObjectMeta(labels: labels, annotations: annotations),
            spec: PodSpec(containers: containers ?? [echo()]))
    }

    static func echo(name: String = "echo") -> Container {
        Container(
            name: name, image: "sandbox.local/echo",
            ports: [
                ContainerPort(name: "http", containerPort: 8080),
                ContainerPort(name: "tcp", containerPort: 9000),
                ContainerPort(name: "udp", containerPort: 9001, protocol: "UDP"),
            ],
            env: [EnvVar(name: "HTTP_PORT", value: "8080")],
            volumeMounts: [VolumeMount(name: "data", mountPath: "/data")])
    }

    static func service(
        _ name: String, selector: [String: String] = ["app": "echo"], headless: Bool = false, ports: [ServicePort]
    ) -> Service {
        Service(
            metadata: ObjectMeta(name: name, namespace: "shop", uid: "uid-\(name)"),
            spec: ServiceSpec(clusterIP: headless ? "None" : "10.96.0.20", ports: ports, selector: selector))
    }

    static func generate(_ template: PodTemplateSpec, _ services: [Service]) throws(InjectorError) -> AgentConfig {
        try AgentConfigGenerator.generate(
            workloadKind: "Deployment", workloadName: "echo", namespace: "shop", template: template, services: services,
            settings: settings)
    }
}

@Suite("A workload's agent config from its Services")
struct ConfigGenerationTests {
    @Test func aSymbolicTargetPortIsTakenOverByName() throws {
        let config = try Fixtures.generate(
            Fixtures.template(), [Fixtures.service("echo", ports: [ServicePort(name: "web", port: 80, targetPort: .string("http"))])])
        #expect(config.managerHost == "traffic-manager.ambassador")
        #expect(config.managerPort == 8081)
        #expect(config.agentImage == Fixtures.settings.agentImage)
        let intercept = try #require(config.containers.first?.intercepts.first)
        #expect(intercept.serviceName == "echo" && intercept.serviceUID == "uid-echo" && intercept.servicePortName == "web")
        #expect(intercept.servicePort == 80 && intercept.containerPort == 8080 && intercept.containerPortName == "http")
        #expect(!intercept.targetPortNumeric && !intercept.needsRedirect)
        #expect(intercept.agentPort == 9900)
        #expect(!config.needsInitContainer)
        #expect(config.containers.first?.mounts == ["/data"])
        #expect(config.containers.first?.envPrefix == "A_")
        #expect(config.containers.first?.mountPoint == "/tel_app_mounts/echo")
    }

    @Test func aNumericTargetPortNeedsTheRedirect() throws {
        let config = try Fixtures.generate(
            Fixtures.template(), [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .int(8080))])])
        let intercept = try #require(config.containers.first?.intercepts.first)
        #expect(intercept.targetPortNumeric && intercept.containerPort == 8080 && intercept.agentPort == 9900)
        #expect(config.needsInitContainer)
    }

    @Test func aMissingTargetPortIsThePortNumber() throws {
        let config = try Fixtures.generate(Fixtures.template(), [Fixtures.service("echo", ports: [ServicePort(port: 9000)])])
        let intercept = try #require(config.containers.first?.intercepts.first)
        #expect(intercept.targetPortNumeric && intercept.containerPort == 9000)
    }

    @Test func aHeadlessServiceNeedsTheRedirectEvenWithANamedPort() throws {
        let config = try Fixtures.generate(
            Fixtures.template(), [Fixtures.service("echo", headless: true, ports: [ServicePort(port: 80, targetPort: .string("http"))])])
        let intercept = try #require(config.containers.first?.intercepts.first)
        #expect(intercept.headless && intercept.needsRedirect)
        #expect(config.needsInitContainer)
    }

    @Test func severalServicesAndPortsGetOneAgentPortPerContainerPort() throws {
        let config = try Fixtures.generate(
            Fixtures.template(),
            [
                Fixtures.service("echo", ports: [
                    ServicePort(name: "web", port: 80, targetPort: .string("http")),
                    ServicePort(name: "tcp", port: 9000, targetPort: .int(9000)),
                    ServicePort(name: "udp", protocol: "UDP", port: 9001, targetPort: .string("udp")),
                ]),
                Fixtures.service("echo-alias", ports: [ServicePort(name: "http", port: 8080, targetPort: .string("http"))]),
                Fixtures.service("other", selector: ["app": "other"], ports: [ServicePort(port: 80, targetPort: .int(8080))]),
            ])
        let intercepts = try #require(config.containers.first?.intercepts)
        #expect(intercepts.count == 4)
        #expect(Set(intercepts.map(\.serviceName)) == ["echo", "echo-alias"])
        let byPort = Dictionary(grouping: intercepts, by: \.containerPort).mapValues { Set($0.map(\.agentPort)) }
        #expect(byPort[8080] == [9900])
        #expect(byPort[9000] == [9901])
        #expect(byPort[9001] == [9902])
        #expect(intercepts.first { $0.containerPort == 9001 }?.protocol == "UDP")
    }

    @Test func containersWithoutEngagedPortsAreListedForEnvAndMounts() throws {
        let sidecar = Container(name: "sidecar", image: "busybox", volumeMounts: [VolumeMount(name: "cache", mountPath: "/cache")])
        let config = try Fixtures.generate(
            Fixtures.template(containers: [Fixtures.echo(), sidecar]),
            [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("http"))])])
        #expect(config.containers.map(\.name) == ["echo", "sidecar"])
        #expect(config.containers[1].envPrefix == "B_")
        #expect(config.containers[1].intercepts.isEmpty)
        #expect(config.containers[1].mounts == ["/cache"])
    }

    @Test func agentPortsSkipPortsTheAppUses() throws {
        var app = Fixtures.echo()
        app.ports?.append(ContainerPort(name: "admin", containerPort: 9900))
        let config = try Fixtures.generate(
            Fixtures.template(containers: [app]), [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("http"))])])
        #expect(config.containers.first?.intercepts.first?.agentPort == 9901)
    }

    @Test func noServiceIsAnErrorNamingTheWorkload() {
        #expect(throws: InjectorError(
            "No Service selects the pods of deployment echo in namespace shop; create a Service whose selector matches its pod labels, or list ports in the annotation telepresence.io/inject-container-ports."
        )) {
            try Fixtures.generate(Fixtures.template(), [Fixtures.service("other", selector: ["app": "other"], ports: [ServicePort(port: 80)])])
        }
    }

    @Test func anIngestNeedsNoService() throws {
        let config = try AgentConfigGenerator.generate(
            workloadKind: "Deployment", workloadName: "echo", namespace: "shop", template: Fixtures.template(),
            services: [], settings: Fixtures.settings, requireService: false)
        #expect(config.containers.map(\.name) == ["echo"])
        #expect(config.containers.allSatisfy { $0.intercepts.isEmpty }, "an ingest takes no port over")
    }

    @Test func aServiceTargetingNoContainerPortIsAnError() {
        do {
            _ = try Fixtures.generate(Fixtures.template(), [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("grpc"))])])
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("Service echo"))
            #expect(error.description.contains("deployment echo in namespace shop"))
        }
    }

    @Test func injectServiceNamePicksOneService() throws {
        let services = [
            Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("http"))]),
            Fixtures.service("echo-tcp", ports: [ServicePort(port: 9000, targetPort: .int(9000))]),
        ]
        let config = try Fixtures.generate(Fixtures.template(annotations: [AgentNames.injectServiceName: "echo-tcp"]), services)
        #expect(config.containers[0].intercepts.map(\.serviceName) == ["echo-tcp"])
        #expect(throws: InjectorError.self) {
            try Fixtures.generate(Fixtures.template(annotations: [AgentNames.injectServiceName: "nope"]), services)
        }
    }

    @Test func injectServicePortsRestrictsThePorts() throws {
        let service = Fixtures.service("echo", ports: [
            ServicePort(name: "web", port: 80, targetPort: .string("http")),
            ServicePort(name: "tcp", port: 9000, targetPort: .int(9000)),
        ])
        let byName = try Fixtures.generate(Fixtures.template(annotations: [AgentNames.injectServicePorts: "web"]), [service])
        #expect(byName.containers[0].intercepts.map(\.servicePortName) == ["web"])
        let byNumber = try Fixtures.generate(Fixtures.template(annotations: [AgentNames.injectServicePorts: "9000"]), [service])
        #expect(byNumber.containers[0].intercepts.map(\.servicePort) == [9000])
    }

    @Test func injectContainerPortsEngagesWithoutAService() throws {
        let config = try Fixtures.generate(Fixtures.template(annotations: [AgentNames.injectContainerPorts: "http, 9001/UDP"]), [])
        let intercepts = config.containers[0].intercepts
        #expect(intercepts.map(\.containerPort) == [8080, 9001])
        #expect(intercepts.map(\.protocol) == ["TCP", "UDP"])
        #expect(intercepts.allSatisfy { $0.serviceName.isEmpty && $0.needsRedirect })
    }

    @Test func injectIgnoreVolumeMountsLeavesThoseOut() throws {
        var app = Fixtures.echo()
        app.volumeMounts?.append(VolumeMount(name: "secret", mountPath: "/secret"))
        let config = try Fixtures.generate(
            Fixtures.template(annotations: [AgentNames.injectIgnoreVolumeMounts: "secret"], containers: [app]),
            [Fixtures.service("echo", ports: [ServicePort(port: 80, targetPort: .string("http"))])])
        #expect(config.containers[0].mounts == ["/data"])
    }
}
