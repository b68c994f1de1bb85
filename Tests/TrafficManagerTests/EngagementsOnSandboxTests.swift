import AgentConfig
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KubeClient
import ManagerInstall
import RPC
import Sandbox
import SwiftProtobuf
import Synchronization
import TestSupport
import Testing
import TrafficManager

/// Intercepts through the in-process manager's real gRPC API against a sandbox API server. The
/// virtual node runs no processes, so the test acts as each pod's traffic-agent itself, through
/// the same calls the real agent makes (ArriveAsAgent with the pod's IP, WatchIntercepts,
/// ReviewIntercept).
@Suite(.serialized) struct EngagementsOnSandboxTests {
    typealias ManagerClient = Telepresence_Manager_Manager.Client<HTTP2ClientTransport.Posix>

    static func withManager(
        agentArrival: Duration = .seconds(20), ttl: Duration = .seconds(30), asInstalled: Bool = false, managed: [String] = [],
        _ body: (ManagerClient, KubeClient, TrafficManager, APIServer) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let server = try await APIServer.start()
        var manager: TrafficManager?
        do {
            let kubeconfig = folder.appendingPathComponent("kubeconfig")
            try server.writeKubeconfig(to: kubeconfig)
            let kube = KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: kubeconfig.path)))
            _ = try await kube.create(.namespaces, Namespace(metadata: ObjectMeta(name: "ambassador")))
            let resolvConf = folder.appendingPathComponent("resolv.conf")
            try "search ambassador.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\n".write(to: resolvConf, atomically: true, encoding: .utf8)
            // As installed: the manager's own service account with the RBAC `helm install` grants
            // (the body still sets the cluster up as the admin).
            var managerKube = kube
            if asInstalled {
                let rbacKinds = ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]
                for object in ManagerManifests(namespace: "ambassador", values: .defaults).objects(includeNamespace: false)
                where rbacKinds.contains(object["kind"]?.stringValue ?? "") {
                    let kind = object["kind"]?.stringValue ?? ""
                    let resource = kind == "ServiceAccount" ? ResourceDescriptor.serviceAccounts : ResourceDescriptor(
                        group: "rbac.authorization.k8s.io", version: "v1", resource: kind.lowercased() + "s",
                        namespaced: !kind.hasPrefix("Cluster"), kind: kind)
                    let _: JSONValue = try await kube.create(resource, object)
                }
                let token = try await server.requestToken(namespace: "ambassador", serviceAccount: ManagerManifests.name)
                let managerConfig = folder.appendingPathComponent("manager-kubeconfig")
                try server.kubeconfig(token: token).write(to: managerConfig, atomically: true, encoding: .utf8)
                managerKube = KubeClient(configuration: try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: managerConfig.path)))
            }
            let settings = ManagerSettings(
                namespace: "ambassador", serverPort: 0, serverHost: "127.0.0.1", clientSessionTTL: ttl, expiryInterval: .milliseconds(50),
                managedNamespaces: managed, resolvConfPath: resolvConf.path, agentArrivalTimeout: agentArrival)
            let started = try await TrafficManager.start(settings: settings, client: managerKube)
            manager = started
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: started.port), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                try await body(ManagerClient(wrapping: grpc), kube, started, server)
            }
            await started.stop()
            try await server.shutdown()
        } catch {
            await manager?.stop()
            try? await server.shutdown()
            throw error
        }
    }

    static func arrive(_ manager: ManagerClient, as name: String) async throws -> Telepresence_Manager_SessionInfo {
        try await manager.arriveAsClient(request: ClientRequest(message: .with {
            $0.name = name
            $0.namespace = "default"
            $0.version = "test"
        }))
    }

    /// Deployment `name` (container `echo`: http 8080, tcp 9000) and, unless `service` is
    /// false, Service `name` (http 80 -> targetPort "http", tcp 9000 -> 9000).
    static func echo(_ kube: KubeClient, _ name: String = "echo", service: Bool = true, labels: [String: String]? = nil) async throws {
        let labels = labels ?? ["app": name]
        _ = try await kube.create(.deployments, Deployment(
            metadata: ObjectMeta(name: name, namespace: "default"),
            spec: DeploymentSpec(
                replicas: 1, selector: LabelSelector(matchLabels: labels),
                template: PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: [Container(
                    name: "echo", image: "sandbox.local/echo",
                    ports: [ContainerPort(name: "http", containerPort: 8080), ContainerPort(name: "tcp", containerPort: 9000)])])))))
        if service {
            _ = try await kube.create(.services, Service(
                metadata: ObjectMeta(name: name, namespace: "default"),
                spec: ServiceSpec(ports: [
                    ServicePort(name: "http", port: 80, targetPort: .string("http")),
                    ServicePort(name: "tcp", port: 9000, targetPort: .int(9000)),
                ], selector: labels)))
        }
    }

    /// The pod the roll made: one with the template's restartedAt annotation.
    static func rolledPod(_ kube: KubeClient, _ workload: String = "echo", statefulSet: Bool = false) async throws -> Pod {
        var found: Pod?
        try await waitUntil("the roll of \(workload) to make a pod with the restartedAt annotation", timeout: .seconds(15), pollingEvery: .milliseconds(50)) {
            let template: PodTemplateSpec?
            if statefulSet {
                let s: StatefulSet = try await kube.get(.statefulSets, name: workload, namespace: "default")
                template = s.spec?.template
            } else {
                let d: Deployment = try await kube.get(.deployments, name: workload, namespace: "default")
                template = d.spec?.template
            }
            guard let stamp = template?.metadata?.annotations?[AgentNames.restartedAtAnnotation] else { return false }
            let pods: KubeList<Pod> = try await kube.list(.pods, namespace: "default")
            found = pods.items.first {
                $0.metadata.annotations?[AgentNames.restartedAtAnnotation] == stamp && $0.metadata.deletionTimestamp == nil
                    && ($0.metadata.labels?["app"] == workload) && $0.status?.podIP != nil
            }
            return found != nil
        }
        return try #require(found)
    }

    /// One pod's traffic-agent as the test plays it: arrives, watches its workload's
    /// intercepts and confirms each new one (or refuses it with `refusal`).
    final class PlayedAgent: Sendable {
        let session = Mutex<Telepresence_Manager_SessionInfo?>(nil)
        let snapshots = Mutex<[[String]]>([])
        var latest: [String]? { snapshots.withLock { $0.last } }

        func run(_ manager: ManagerClient, pod: Pod, workload: String = "echo", kind: String = "Deployment", refusal: String? = nil) async throws {
            let info = try await manager.arriveAsAgent(request: ClientRequest(message: .with {
                $0.name = workload
                $0.namespace = "default"
                $0.kind = kind
                $0.podName = pod.metadata.name ?? ""
                $0.podIp = pod.status?.podIP ?? ""
                $0.tunnelPort = 9899
                $0.version = "test"
                $0.containers = [.with {
                    $0.name = "echo"
                    $0.environment = ["GREETING": "hello from \(workload)", "TELEPRESENCE_CONTAINER": "echo"]
                    $0.mounts = ["/var/run/secrets/kubernetes.io/serviceaccount"]
                }]
            }))
            session.withLock { $0 = info }
            try await manager.watchIntercepts(request: ClientRequest(message: info)) { response in
                var reviewed: Set<String> = []
                for try await snapshot in response.messages {
                    self.snapshots.withLock { $0.append(snapshot.intercepts.map(\.id)) }
                    for intercept in snapshot.intercepts where !reviewed.contains(intercept.id) {
                        reviewed.insert(intercept.id)
                        _ = try await manager.reviewIntercept(request: ClientRequest(message: .with {
                            $0.session = info
                            $0.interceptID = intercept.id
                            $0.disposition = refusal == nil ? .active : .agentError
                            $0.message = refusal ?? ""
                        }))
                    }
                }
            }
        }
    }

    static func intercept(
        _ manager: ManagerClient, _ session: Telepresence_Manager_SessionInfo, _ workload: String = "echo", name: String? = nil,
        port: String = "", service: String = ""
    ) async throws -> Telepresence_Manager_InterceptInfo {
        try await manager.createIntercept(request: ClientRequest(message: .with {
            $0.session = session
            $0.spec = .with {
                $0.name = name ?? workload
                $0.agent = workload
                $0.namespace = "default"
                $0.mechanism = "tcp"
                $0.targetHost = "127.0.0.1"
                $0.targetPort = 3000
                $0.portIdentifier = port
                $0.serviceName = service
            }
        }))
    }

    static func rpcError(_ body: () async throws -> Void) async -> RPCError? {
        do {
            try await body()
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            Issue.record("expected an RPCError, got \(error)")
            return nil
        }
    }

    @Test func interceptRollsConfirmsRefusesConflictsAndEndsWithItsClient() async throws {
        try await Self.withManager { manager, kube, traffic, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let agent = PlayedAgent()
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The first intercept writes the config and rolls; the agent of the new pod confirms.
                async let created = Self.intercept(manager, alice, port: "http")
                let pod = try await Self.rolledPod(kube)
                group.addTask { try await agent.run(manager, pod: pod) }
                let info = try await created
                #expect(info.disposition == .active)
                #expect(info.id == "\(alice.sessionID):echo")
                #expect(info.agents.map(\.podName) == [pod.metadata.name ?? ""])
                #expect(info.agents.first?.podIp == pod.status?.podIP)
                #expect(info.agents.first?.tunnelPort == 9899)
                #expect(info.environment["GREETING"] == "hello from echo")
                #expect(info.mounts == ["/var/run/secrets/kubernetes.io/serviceaccount"])
                #expect(info.createdMs > 0)
                #expect(info.spec.client == "alice@laptop")
                #expect(info.spec.workloadKind == "Deployment")
                #expect(info.spec.serviceName == "echo")
                #expect(info.spec.servicePortName == "http")
                #expect(info.spec.servicePort == 80)
                #expect(info.spec.containerName == "echo")
                #expect(info.spec.containerPort == 8080)
                #expect(info.spec.agentPort >= Int32(AgentNames.firstAgentPort))
                #expect(!info.spec.serviceUid.isEmpty)
                let map: ConfigMap = try await kube.get(.configMaps, name: AgentNames.configMap, namespace: "default")
                let config = try AgentConfig.decode(try #require(map.data?["echo"]))
                #expect(config.workloadKind == "Deployment")
                #expect(config.containers.first?.intercepts.map(\.containerPort).sorted() == [8080, 9000])

                // Another client on the same port: refused, naming who holds it and since when.
                let bob = try await Self.arrive(manager, as: "bob@desk")
                let refused = await Self.rpcError { _ = try await Self.intercept(manager, bob, port: "http") }
                #expect(refused?.code == .alreadyExists)
                let since = try #require(refused?.message.firstMatch(of: /since (\d\d:\d\d:\d\d) UTC\)$/)?.output.1)
                #expect(refused?.message == "port 8080 of deployment echo is already intercepted by alice@laptop (intercept echo: all TCP connections, since \(since) UTC)")
                // The same name twice by one client: refused.
                let twice = await Self.rpcError { _ = try await Self.intercept(manager, alice, port: "tcp") }
                #expect(twice?.code == .alreadyExists)
                #expect(twice?.message.contains("you already have an intercept named echo") == true)

                // Another port of the same workload: the config is unchanged, no roll, the agent confirms.
                let before: Deployment = try await kube.get(.deployments, name: "echo", namespace: "default")
                let bobs = try await Self.intercept(manager, bob, name: "echo-tcp", port: "9000")
                #expect(bobs.disposition == .active)
                #expect(bobs.spec.containerPort == 9000)
                let after: Deployment = try await kube.get(.deployments, name: "echo", namespace: "default")
                #expect(after.spec?.template == before.spec?.template)
                try await waitUntil("the agent to see both intercepts") {
                    agent.latest.map(Set.init) == ["\(alice.sessionID):echo", "\(bob.sessionID):echo-tcp"]
                }

                // RemoveIntercept ends alice's; a second removal is NOT_FOUND.
                _ = try await manager.removeIntercept(request: ClientRequest(message: .with {
                    $0.session = alice
                    $0.name = "echo"
                }))
                try await waitUntil("the agent to see only bob's intercept") { agent.latest == ["\(bob.sessionID):echo-tcp"] }
                let again = await Self.rpcError {
                    _ = try await manager.removeIntercept(request: ClientRequest(message: .with {
                        $0.session = alice
                        $0.name = "echo"
                    }))
                }
                #expect(again?.code == .notFound)

                // Bob departs: his intercept ends with him.
                _ = try await manager.depart(request: ClientRequest(message: bob))
                try await waitUntil("the agent's snapshot to become empty") { agent.latest == [] }

                // The agent's own session lives by Remain and ends with Depart like a client's.
                let agentSession = try #require(agent.session.withLock { $0 })
                #expect(agentSession.sessionID.hasPrefix("agent:"))
                _ = try await manager.remain(request: ClientRequest(message: .with { $0.session = agentSession }))
                #expect(traffic.engagements.read { $0.agents.count } == 1)
                _ = try await manager.depart(request: ClientRequest(message: agentSession))
                #expect(traffic.engagements.read { $0.agents.isEmpty })
                group.cancelAll()
            }
        }
    }

    @Test func aClientWhoseSessionExpiresLosesItsIntercepts() async throws {
        try await Self.withManager(ttl: .seconds(2)) { manager, kube, traffic, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let agent = PlayedAgent()
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let created = Self.intercept(manager, alice, port: "http")
                let pod = try await Self.rolledPod(kube)
                group.addTask { try await agent.run(manager, pod: pod) }
                #expect(try await created.disposition == .active)
                let agentSession = try #require(agent.session.withLock { $0 })
                // Alice goes quiet (a laptop that sleeps); the agent keeps its session alive.
                try await waitUntil("alice's session to expire and her intercept with it", pollingEvery: .milliseconds(100)) {
                    _ = try await manager.remain(request: ClientRequest(message: .with { $0.session = agentSession }))
                    return agent.latest == []
                }
                #expect(!traffic.sessions.isAlive(alice.sessionID))
                #expect(traffic.engagements.read { $0.intercepts.isEmpty && $0.agents.count == 1 })
                group.cancelAll()
            }
        }
    }

    @Test func theWorkloadsStreamShowsWhoInterceptsAndWhatCannotBeEngaged() async throws {
        try await Self.withManager { manager, kube, _, _ in
            try await Self.echo(kube)
            try await Self.echo(kube, "lonely", service: false)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let agent = PlayedAgent()
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let created = Self.intercept(manager, alice, port: "http")
                let pod = try await Self.rolledPod(kube)
                group.addTask { try await agent.run(manager, pod: pod) }
                #expect(try await created.disposition == .active)
                let seen = try await manager.watchWorkloads(request: ClientRequest(message: .with {
                    $0.sessionInfo = alice
                    $0.namespace = "default"
                })) { response -> [String: Telepresence_Manager_WorkloadInfo] in
                    for try await delta in response.messages where delta.snapshot {
                        return Dictionary(delta.events.map { ($0.workload.name, $0.workload) }, uniquingKeysWith: { $1 })
                    }
                    return [:]
                }
                #expect(seen["lonely"]?.notEngageableReason == "no Service selects it")
                #expect(seen["echo"]?.notEngageableReason == "")
                #expect(seen["echo"]?.intercepts.map(\.spec.client) == ["alice@laptop"])
                #expect(seen["echo"]?.intercepts.first?.spec.containerPort == 8080)
                // The virtual node runs no injected agent, so the agent is not "installed".
                #expect(seen["echo"]?.agentState == .noAgentUnspecified)
                group.cancelAll()
            }
        }
    }

    @Test func badArgumentsAreRefusedWithOneSentenceAndLeaveNothing() async throws {
        try await Self.withManager { manager, kube, _, _ in
            try await Self.echo(kube)
            try await Self.echo(kube, "lonely", service: false)
            try await Self.echo(kube, "shared", labels: ["app": "shared"])
            _ = try await kube.create(.services, Service(
                metadata: ObjectMeta(name: "shared-too", namespace: "default"),
                spec: ServiceSpec(ports: [ServicePort(name: "http", port: 8080, targetPort: .string("http"))], selector: ["app": "shared"])))
            let alice = try await Self.arrive(manager, as: "alice@laptop")

            let unknown = await Self.rpcError { _ = try await Self.intercept(manager, alice, "nope") }
            #expect(unknown?.code == .notFound)
            #expect(unknown?.message.hasPrefix("deployment nope not found in namespace default") == true)

            let badPort = await Self.rpcError { _ = try await Self.intercept(manager, alice, port: "grpc") }
            #expect(badPort?.code == .invalidArgument)
            #expect(badPort?.message == "service echo has no port grpc; its ports: http 80/TCP, tcp 9000/TCP")

            let which = await Self.rpcError { _ = try await Self.intercept(manager, alice) }
            #expect(which?.code == .invalidArgument)
            #expect(which?.message.contains("several ports (http 80/TCP, tcp 9000/TCP)") == true)

            let several = await Self.rpcError { _ = try await Self.intercept(manager, alice, "shared", port: "http") }
            #expect(several?.code == .invalidArgument)
            #expect(several?.message == "deployment shared is selected by several Services (shared, shared-too); say which one with --service")

            let notSelecting = await Self.rpcError { _ = try await Self.intercept(manager, alice, "shared", service: "echo") }
            #expect(notSelecting?.code == .invalidArgument)
            #expect(notSelecting?.message.contains("service echo does not select deployment shared") == true)

            let noService = await Self.rpcError { _ = try await Self.intercept(manager, alice, "lonely") }
            #expect(noService?.code == .failedPrecondition)
            #expect(noService?.message.contains("no Service selects it") == true)

            let noSession = await Self.rpcError { _ = try await Self.intercept(manager, .with { $0.sessionID = "gone" }) }
            #expect(noSession?.code == .notFound)

            // Nothing was written, nothing rolled.
            let maps: KubeList<ConfigMap> = try await kube.list(.configMaps, namespace: "default")
            #expect(!maps.items.contains { $0.metadata.name == AgentNames.configMap })
            let echo: Deployment = try await kube.get(.deployments, name: "echo", namespace: "default")
            #expect(echo.spec?.template.metadata?.annotations?[AgentNames.restartedAtAnnotation] == nil)
        }
    }

    @Test func anAgentThatCannotBePulledIsReportedNotTimedOut() async throws {
        try await Self.withManager(agentArrival: .milliseconds(1500)) { manager, kube, traffic, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            async let created = Self.rpcError { _ = try await Self.intercept(manager, alice, port: "http") }
            // The virtual node runs nothing: give the rolled pod the status a kubelet reports for
            // an agent image it cannot pull.
            let pod = try await Self.rolledPod(kube)
            let message = "Back-off pulling image \"ghcr.io/telepresence-swift/traffic:0.0.0-bad\""
            let status: JSONValue = ["status": ["containerStatuses": [
                ["name": "echo", "image": "sandbox.local/echo", "imageID": "", "ready": true, "restartCount": 0, "state": ["running": ["startedAt": "2026-01-01T00:00:00Z"]]],
                ["name": "traffic-agent", "image": "ghcr.io/telepresence-swift/traffic:0.0.0-bad", "imageID": "", "ready": false, "restartCount": 0,
                 "state": ["waiting": ["reason": "ImagePullBackOff", "message": .string(message)]]],
            ]]]
            let _: Pod = try await kube.patchStatus(.pods, name: pod.metadata.name ?? "", namespace: "default", type: .merge, patch: status)
            let error = await created
            #expect(error?.code == .deadlineExceeded)
            #expect(error?.message.contains("pod \(pod.metadata.name ?? ""): container traffic-agent is ImagePullBackOff (\(message))") == true)
            #expect(error?.message.contains("timed out") == false)
            // The intercept is gone; the agent config stays (as Telepresence keeps agents installed).
            #expect(traffic.engagements.read { $0.intercepts.isEmpty })
            let map: ConfigMap = try await kube.get(.configMaps, name: AgentNames.configMap, namespace: "default")
            #expect(map.data?["echo"] != nil)
        }
    }

    @Test func uninstallAgentsRemovesTheEntryAndTheAnnotationAndEndsIntercepts() async throws {
        try await Self.withManager { manager, kube, _, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let agent = PlayedAgent()
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let created = Self.intercept(manager, alice, port: "http")
                let pod = try await Self.rolledPod(kube)
                group.addTask { try await agent.run(manager, pod: pod) }
                #expect(try await created.disposition == .active)
                let result = try await manager.uninstallAgents(request: ClientRequest(message: .with {
                    $0.session = alice
                    $0.namespace = "default"
                    $0.workloads = ["echo"]
                }))
                #expect(result.removed == ["echo"])
                try await waitUntil("the agent's snapshot to become empty") { agent.latest == [] }
                // Its only entry gone, the ConfigMap goes too.
                let map: ConfigMap? = try? await kube.get(.configMaps, name: AgentNames.configMap, namespace: "default")
                #expect(map?.data?["echo"] == nil)
                let echo: Deployment = try await kube.get(.deployments, name: "echo", namespace: "default")
                #expect(echo.spec?.template.metadata?.annotations?[AgentNames.restartedAtAnnotation] == nil)
                // Nothing left to remove.
                let none = try await manager.uninstallAgents(request: ClientRequest(message: .with {
                    $0.session = alice
                    $0.namespace = "default"
                    $0.allAgents = true
                }))
                #expect(none.removed.isEmpty)
                group.cancelAll()
            }
        }
    }

    /// The manager as `helm install` sets it up (its service account and RBAC) needs no
    /// permission it is not granted for intercepts, their failures, workloads and uninstall.
    @Test func theInstalledRBACSufficesForEngagements() async throws {
        try await Self.withManager(agentArrival: .milliseconds(1500), asInstalled: true) { manager, kube, _, server in
            try await Self.echo(kube)
            try await Self.echo(kube, "broken")
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let agent = PlayedAgent()
            let user = "system:serviceaccount:ambassador:\(ManagerManifests.name)"
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let created = Self.intercept(manager, alice, port: "http")
                let pod = try await Self.rolledPod(kube)
                group.addTask { try await agent.run(manager, pod: pod) }
                #expect(try await created.disposition == .active)
                _ = try await manager.watchWorkloads(request: ClientRequest(message: .with {
                    $0.sessionInfo = alice
                    $0.namespace = "default"
                })) { response in
                    for try await delta in response.messages where delta.snapshot { return }
                }
                let removed = try await manager.uninstallAgents(request: ClientRequest(message: .with {
                    $0.session = alice
                    $0.namespace = "default"
                    $0.allAgents = true
                }))
                #expect(removed.removed == ["echo"])
                #expect(server.api.denials.entries.filter { $0.user == user } == [])
                group.cancelAll()
            }
            // A failing intercept reads pods and events to say why.
            let failed = await Self.rpcError { _ = try await Self.intercept(manager, alice, "broken", port: "http") }
            #expect(failed?.code == .deadlineExceeded)
            withKnownIssue("core events (list) are not granted by the install yet; eng-injector's manifests add them", isIntermittent: true) {
                #expect(server.api.denials.entries.filter { $0.user == user }.map { "\($0.verb) \($0.resource)" } == [])
            }
        }
    }

    @Test func aStatefulSetIsInterceptedOnceItsRolledPodsAgentConfirms() async throws {
        try await Self.withManager { manager, kube, _, _ in
            let labels = ["app": "db"]
            _ = try await kube.create(.statefulSets, StatefulSet(
                metadata: ObjectMeta(name: "db", namespace: "default"),
                spec: StatefulSetSpec(
                    replicas: 1, selector: LabelSelector(matchLabels: labels),
                    template: PodTemplateSpec(metadata: ObjectMeta(labels: labels), spec: PodSpec(containers: [Container(
                        name: "echo", image: "sandbox.local/echo", ports: [ContainerPort(name: "http", containerPort: 8080)])])),
                    serviceName: "db")))
            _ = try await kube.create(.services, Service(
                metadata: ObjectMeta(name: "db", namespace: "default"),
                spec: ServiceSpec(ports: [ServicePort(name: "http", port: 80, targetPort: .int(8080))], selector: labels)))
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let agent = PlayedAgent()
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let created = Self.intercept(manager, alice, "db")
                let pod = try await Self.rolledPod(kube, "db", statefulSet: true)
                group.addTask { try await agent.run(manager, pod: pod, workload: "db", kind: "StatefulSet") }
                let info = try await created
                #expect(info.disposition == .active)
                #expect(info.spec.workloadKind == "StatefulSet")
                #expect(info.agents.map(\.podName) == ["db-0"])
                #expect(info.spec.containerPort == 8080)
                group.cancelAll()
            }
        }
    }

    @Test func anAgentThatRefusesFailsTheInterceptWithItsMessage() async throws {
        try await Self.withManager { manager, kube, traffic, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let agent = PlayedAgent()
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let refused = Self.rpcError { _ = try await Self.intercept(manager, alice, port: "http") }
                let pod = try await Self.rolledPod(kube)
                group.addTask { try await agent.run(manager, pod: pod, refusal: "port 8080 is not in my configuration") }
                let error = await refused
                #expect(error?.code == .failedPrecondition)
                #expect(error?.message == "the traffic-agent in pod \(pod.metadata.name ?? "") refused intercept echo: port 8080 is not in my configuration")
                #expect(traffic.engagements.read { $0.intercepts.isEmpty })
                group.cancelAll()
            }
        }
    }

    @Test func aClientThatGivesUpWaitingLeavesNoIntercept() async throws {
        try await Self.withManager { manager, kube, traffic, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            // No agent ever arrives; the client cancels its call (Ctrl-C) while the manager waits.
            let call = Task { try await Self.intercept(manager, alice, port: "http") }
            try await waitUntil("the manager to hold the waiting intercept") { traffic.engagements.read { !$0.intercepts.isEmpty } }
            call.cancel()
            try await waitUntil("the manager to drop the intercept of the cancelled call") { traffic.engagements.read { $0.intercepts.isEmpty } }
            #expect(await (try? call.value) == nil)
        }
    }

    @Test func aNamespaceTheManagerDoesNotManageIsRefused() async throws {
        try await Self.withManager(managed: ["ambassador", "team-a"]) { manager, kube, _, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            let refused = await Self.rpcError { _ = try await Self.intercept(manager, alice, port: "http") }
            #expect(refused?.code == .permissionDenied)
            #expect(refused?.message.hasPrefix("namespace default is not managed by this traffic-manager (it manages ambassador, team-a)") == true)
        }
    }

    @Test func aReplicaSetThatCannotCreatePodsIsReportedFromItsEvents() async throws {
        try await Self.withManager(agentArrival: .milliseconds(1500)) { manager, kube, _, _ in
            try await Self.echo(kube)
            let alice = try await Self.arrive(manager, as: "alice@laptop")
            async let created = Self.rpcError { _ = try await Self.intercept(manager, alice, port: "http") }
            let pod = try await Self.rolledPod(kube)
            let replicaSet = try #require(pod.metadata.ownerReferences?.first?.name)
            let quota = "pods \"\(replicaSet)-x\" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=4, limited: cpu=4"
            // What a ReplicaSet controller reports when a quota refuses its pods (and an event of
            // another workload, which is no part of the answer).
            for (name, object, message) in [("e1", replicaSet, quota), ("e2", "other-5d8f", "not ours")] {
                _ = try await kube.create(.events, Event(
                    metadata: ObjectMeta(name: name, namespace: "default"),
                    involvedObject: ObjectReference(apiVersion: "apps/v1", kind: "ReplicaSet", namespace: "default", name: object),
                    reason: "FailedCreate", message: message, type: "Warning"))
            }
            let error = await created
            #expect(error?.code == .deadlineExceeded)
            #expect(error?.message.contains("ReplicaSet \(replicaSet): FailedCreate: \(quota)") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("not ours") == false)
        }
    }
}
