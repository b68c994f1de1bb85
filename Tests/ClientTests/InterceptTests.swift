import ChildProcess
import ClientSupport
import Diagnostics
import Foundation
import GRPCCore
import KubeClient
import Logging
import ManagerInstall
import NIOCore
import NIOPosix
import NetworkAddress
import RPC
import TestSupport
import Synchronization
import Testing
import Tunnel
@testable import UserDaemon

/// `intercept`, `leave`, `list`, `status` and `uninstall` with the real CLI executable and a
/// user daemon in process, against a test double of the traffic-manager's API (FakeManager)
/// and a fake traffic-agent made of the real Tunnel pieces (FakeAgent). The manager pod the
/// daemon locates is the sandbox's; the daemon dials the fake directly.
@Suite(.serialized) struct InterceptTests {
    struct Setup {
        let sandbox: SandboxFixture
        let manager: FakeManager
        let agent: FakeAgent
        let daemon: ConnectorDaemon
        var environment: [String: String] { sandbox.environment }
        var sessionID: String { get async { await daemon.connector.status()?.sessionID ?? "" } }

        func telepresence(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> ProcessRunner.Output {
            try await CommandRunner.run("telepresence", arguments, environment: environment, timeout: timeout)
        }

        /// The manager answers CreateIntercept with an ACTIVE intercept carried by the fake
        /// agent, whose claim it accepts for the calling session.
        func answerActive(environment env: [String: String] = ["APP_COLOR": "blue", "TELEPRESENCE_CONTAINER": "echo"]) {
            let agent = self.agent
            manager.onCreate { request in
                agent.allow(request.session.sessionID)
                return Self.active(request, agentPort: agent.port, environment: env)
            }
        }

        static func active(_ request: Telepresence_Manager_CreateInterceptRequest, agentPort: Int, environment: [String: String]) -> Telepresence_Manager_InterceptInfo {
            .with {
                $0.spec = request.spec
                $0.spec.client = "tester@workstation"
                $0.spec.workloadKind = "Deployment"
                $0.spec.servicePortName = "http"
                $0.spec.servicePort = 80
                $0.spec.`protocol` = "TCP"
                $0.spec.containerName = "echo"
                $0.spec.containerPort = 8080
                $0.disposition = .active
                $0.agents = [.with {
                    $0.podName = "\(request.spec.agent)-7d9c-abcde"
                    $0.namespace = request.spec.namespace
                    $0.podIp = "127.0.0.1"
                    $0.tunnelPort = Int32(agentPort)
                }]
                $0.environment = environment
                $0.mounts = ["/var/run/secrets/kubernetes.io/serviceaccount"]
                $0.createdMs = 1_765_000_000_000
            }
        }
    }

    static func withSetup(agentPortForward: Bool = false, _ body: (Setup) async throws -> Void) async throws {
        try await SandboxFixture.with { sandbox in
            try await ManagerInstaller(client: sandbox.kube, namespace: "ambassador").install(values: .defaults, createNamespace: true)
            let manager = try await FakeManager.start()
            let agent = try await FakeAgent.start()
            let port = manager.port
            let quiet = Logger(label: "test-connector") { _ in SwiftLogNoOpLogHandler() }
            let daemon: ConnectorDaemon
            do {
                daemon = try await ConnectorDaemon.start(
                    paths: ClientPaths.from(environment: sandbox.environment), config: ClientConfig(),
                    logLevel: LogLevelControl(configured: .info), logger: quiet,
                    makeDialer: { _, _ in DirectManagerDialer(port: port) }, agentPortForward: agentPortForward)
            } catch {
                await agent.stop()
                await manager.stop()
                throw error
            }
            let setup = Setup(sandbox: sandbox, manager: manager, agent: agent, daemon: daemon)
            let result: Result<Void, any Error>
            do {
                let outcome = await daemon.connector.connect(ConnectRequest(
                    kubeFlags: ["kubeconfig": sandbox.kubeconfig.path], environment: sandbox.environment))
                guard case .connected = outcome else { throw FakeAgentError("connect failed: \(outcome)") }
                try await body(setup)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            await daemon.stop()
            await agent.stop()
            await manager.stop()
            try result.get()
        }
    }

    // MARK: The traffic path and the outputs

    @Test func interceptCarriesTheAgentsConnectionsToTheLocalServer() async throws {
        try await Self.withSetup { setup in
            let server = try await LocalServer.start()
            setup.answerActive()
            let envFile = setup.sandbox.folder.appendingPathComponent("echo.env").path
            let intercept = try await setup.telepresence([
                "intercept", "echo", "--port", "\(server.port):http", "--env-file", envFile, "--env-syntax", "sh",
            ])
            #expect(intercept.status == 0, "\(intercept.stderr)")
            #expect(intercept.stdout == """
                Using Deployment echo
                   Intercept name         : echo
                   State                  : ACTIVE
                   Workload kind          : Deployment
                   Destination            : 127.0.0.1:\(server.port)
                   Service Port Identifier: http/TCP
                   Intercepting           : all TCP connections

                """)

            // The claim named this client's session.
            let session = await setup.sessionID
            try await waitUntil("the agent to be claimed") { setup.agent.claimedSessions == [session] }
            // The spec carried what the CLI was given.
            let spec = try #require(setup.manager.intercepts.first?.spec)
            #expect(spec.agent == "echo" && spec.namespace == "default" && spec.portIdentifier == "http")
            #expect(spec.targetHost == "127.0.0.1" && spec.targetPort == Int32(server.port))

            // A connection the agent opens reaches the local server; the first bytes ride with the OPEN.
            let target = TunnelEndpoint(address: IPAddress("127.0.0.1")!, port: UInt16(server.port))
            let probe = try await setup.agent.openConnection(to: target, initialData: "GET /one")
            try await waitUntil("the answer through the tunnel") { probe.snapshot.received == "workstation got: GET /one" }
            #expect(probe.snapshot.opened)
            try await probe.send("GET /two")
            try await waitUntil("the second answer") { probe.snapshot.received.hasSuffix("workstation got: GET /two") }

            // A destination that is not one of this client's targets is refused.
            let other = try await LocalServer.start()
            let refused = try await setup.agent.openConnection(
                to: TunnelEndpoint(address: IPAddress("127.0.0.1")!, port: UInt16(other.port)), initialData: "x")
            try await waitUntil("the refusal") { refused.snapshot.openFailed != nil }
            #expect(refused.snapshot.openFailed == .prohibited)
            #expect(other.connections == 0)
            await other.stop()

            // The env file reads back with bash.
            let sourced = try await ProcessRunner.run(["bash", "-c", "source \(envFile) && echo \"$APP_COLOR/$TELEPRESENCE_CONTAINER/$TELEPRESENCE_INTERCEPT_ID\""])
            #expect(sourced.stdout == "blue/echo/\(session):echo\n", "\(sourced.stderr)")

            // status shows the engagement, in text and json.
            let status = try await setup.telepresence(["status", "--output", "json"])
            let view = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
            let userDaemon = try #require(view["user_daemon"] as? [String: Any])
            let intercepts = try #require(userDaemon["intercepts"] as? [[String: Any]])
            #expect(intercepts.map { $0["name"] as? String } == ["echo"])
            #expect(intercepts.first?["client"] as? String == "tester@workstation")
            let text = try await setup.telepresence(["status"])
            #expect(text.stdout.contains("Intercepts:") && text.stdout.contains("1 total"), "\(text.stdout)")

            // A second intercept of the same name is refused, and the first one stays.
            let again = try await setup.telepresence(["intercept", "echo", "--port", "\(server.port)"])
            #expect(again.status == 1)
            #expect(again.stderr.contains("you already have an intercept named echo"), "\(again.stderr)")

            // leave: the manager forgets it, the tunnel to the agent closes.
            let leave = try await setup.telepresence(["leave", "echo"])
            #expect(leave.status == 0, "\(leave.stderr)")
            #expect(setup.manager.intercepts.isEmpty)
            try await waitUntil("the agent tunnel to close") { setup.agent.claimedSessions.isEmpty }
            let gone = try await setup.telepresence(["leave", "echo"])
            #expect(gone.status == 1 && gone.stderr.contains("there is no engagement named echo"), "\(gone.stderr)")
            await server.stop()
        }
    }

    @Test func aRefusedLocalDialAnswersOpenFailed() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            let port = try LocalServer.freePort()
            let intercept = try await setup.telepresence(["intercept", "echo", "--port", "\(port)"])
            #expect(intercept.status == 0, "\(intercept.stderr)")
            let session = await setup.sessionID
            try await waitUntil("the agent to be claimed") { setup.agent.claimedSessions == [session] }
            let probe = try await setup.agent.openConnection(
                to: TunnelEndpoint(address: IPAddress("127.0.0.1")!, port: UInt16(port)), initialData: "hello")
            try await waitUntil("OPEN_FAILED for the refused dial", timeout: .seconds(2)) { probe.snapshot.openFailed != nil }
            #expect(probe.snapshot.openFailed == .refused)
            #expect(!probe.snapshot.opened)
        }
    }

    @Test func jsonAndYamlOutput() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            let json = try await setup.telepresence(["intercept", "echo", "--port", "9090", "--output", "json", "--detailed-output"])
            #expect(json.status == 0, "\(json.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect(object["name"] as? String == "echo")
            #expect(object["disposition"] as? String == "ACTIVE")
            #expect(object["workload_kind"] as? String == "Deployment")
            #expect(object["target_port"] as? Int == 9090)
            #expect(object["service_port_id"] as? String == "http/TCP")
            #expect(object["path"] as? String == "through the traffic-manager")
            #expect((object["environment"] as? [String: String])?["APP_COLOR"] == "blue")
            #expect(object["pod_ips"] as? [String] == ["127.0.0.1"])
            _ = try await setup.telepresence(["leave", "echo"])

            // --env-json and --env-file (docker syntax by default) read back with python.
            let jsonFile = setup.sandbox.folder.appendingPathComponent("env.json").path
            let dockerFile = setup.sandbox.folder.appendingPathComponent("env.docker").path
            let yaml = try await setup.telepresence(["intercept", "web", "--port", "9091", "-o", "yaml", "-j", jsonFile, "-e", dockerFile])
            let readBack = try await ProcessRunner.run(["python3", "-c", """
                import json
                env = json.load(open('\(jsonFile)'))
                docker = dict(line.rstrip('\\n').split('=', 1) for line in open('\(dockerFile)') if line.strip())
                print(env['APP_COLOR'], docker['APP_COLOR'], env['TELEPRESENCE_CONTAINER'])
                """])
            #expect(readBack.stdout == "blue blue echo\n", "\(readBack.stderr)")
            #expect(yaml.status == 0, "\(yaml.stderr)")
            #expect(yaml.stdout.contains("name: web") && yaml.stdout.contains("disposition: ACTIVE"), "\(yaml.stdout)")
            #expect(!yaml.stdout.contains("APP_COLOR"), "the environment is only in --detailed-output")
        }
    }

    @Test func listShowsTelepresencesStates() async throws {
        try await Self.withSetup { setup in
            let held = Setup.active(
                .with {
                    $0.session.sessionID = "other"
                    $0.spec.name = "web"
                    $0.spec.agent = "web"
                    $0.spec.namespace = "default"
                    $0.spec.targetHost = "127.0.0.1"
                    $0.spec.targetPort = 8080
                }, agentPort: 9899, environment: [:])
            setup.manager.state.withLock {
                $0.workloads = [
                    .with { $0.kind = "Deployment"; $0.name = "echo"; $0.namespace = "default"; $0.agentState = .noAgentUnspecified },
                    .with { $0.kind = "Deployment"; $0.name = "api"; $0.namespace = "default"; $0.agentState = .installed },
                    .with { $0.kind = "ReplicaSet"; $0.name = "lonely"; $0.namespace = "default"; $0.notEngageableReason = "no Service selects its pods" },
                    .with { $0.kind = "Deployment"; $0.name = "web"; $0.namespace = "default"; $0.agentState = .engaged; $0.intercepts = [held] },
                ]
            }
            let list = try await setup.telepresence(["list"])
            #expect(list.status == 0, "\(list.stderr)")
            #expect(list.stdout.contains("deployment echo  : ready to engage (traffic-agent not yet installed)\n"), "\(list.stdout)")
            #expect(list.stdout.contains("deployment api   : ready to engage (traffic-agent already installed)\n"))
            #expect(list.stdout.contains("replicaset lonely: not engageable: no Service selects its pods\n"))
            #expect(list.stdout.contains("deployment web   : intercepted\n"))
            #expect(list.stdout.contains("Client                 : tester@workstation"))

            let intercepted = try await setup.telepresence(["list", "-i"])
            #expect(intercepted.stdout.hasPrefix("deployment web: intercepted\n"), "\(intercepted.stdout)")
            #expect(!intercepted.stdout.contains("echo"))
            let agents = try await setup.telepresence(["list", "--agents", "--output", "json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(agents.stdout.utf8)) as? [[String: Any]])
            #expect(rows.compactMap { $0["name"] as? String } == ["api", "web"])
        }
    }

    /// A UDP flow the agent opens reaches a local UDP server, and its answers come back.
    @Test func udpFlowsReachTheLocalPort() async throws {
        try await Self.withSetup { setup in
            let server = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPAnswer()) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = server.localAddress?.port ?? 0
            setup.answerActive()
            let run = try await setup.telepresence(["intercept", "echo", "--port", "\(port)"])
            #expect(run.status == 0, "\(run.stderr)")
            let session = await setup.sessionID
            try await waitUntil("the agent to be claimed") { setup.agent.claimedSessions == [session] }
            let probe = try await setup.agent.openConnection(
                to: TunnelEndpoint(address: IPAddress("127.0.0.1")!, port: UInt16(port)), initialData: "ping", transport: .udp)
            try await waitUntil("the UDP answer") { probe.snapshot.received == "udp got: ping" }
            try? await server.close().get()
        }
    }

    /// The product's default path: a port-forward through the API server straight to the agent
    /// pod's tunnel port (the sandbox's port-forward reaches the fake agent's listener).
    @Test func theTunnelGoesOverAPortForwardToTheAgentPod() async throws {
        try await Self.withSetup(agentPortForward: true) { setup in
            let runtime = ForwardingPodRuntime()
            setup.sandbox.server.api.node.runtime = runtime
            _ = try await setup.sandbox.kube.create(.pods, Pod(
                metadata: ObjectMeta(name: "echo-7d9c-abcde", namespace: "default"),
                spec: PodSpec(containers: [Container(name: "echo", image: "sandbox.local/echo")])))
            runtime.forward(pod: "echo-7d9c-abcde", port: 9899, to: setup.agent.port)
            let agent = setup.agent
            setup.manager.onCreate { request in
                agent.allow(request.session.sessionID)
                var info = Setup.active(request, agentPort: 9899, environment: [:])
                // An address nothing answers on: only the port-forward can reach the agent.
                info.agents[0].podIp = "192.0.2.77"
                return info
            }
            let server = try await LocalServer.start()
            let run = try await setup.telepresence(["intercept", "echo", "--port", "\(server.port)", "-o", "json"])
            #expect(run.status == 0, "\(run.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            #expect(object["path"] as? String == "agent port-forward")
            let session = await setup.sessionID
            try await waitUntil("the agent to be claimed over the port-forward") { setup.agent.claimedSessions == [session] }
            let probe = try await setup.agent.openConnection(
                to: TunnelEndpoint(address: IPAddress("127.0.0.1")!, port: UInt16(server.port)), initialData: "via the API server")
            try await waitUntil("the answer") { probe.snapshot.received == "workstation got: via the API server" }
            await server.stop()
        }
    }

    /// Pods roll: the manager's WatchIntercepts gives new agents; the daemon claims the new
    /// pod's agent and closes the tunnel to the gone one, and connections keep arriving.
    @Test func tunnelsFollowTheAgentsAsPodsRoll() async throws {
        try await Self.withSetup { setup in
            let server = try await LocalServer.start()
            setup.answerActive()
            let run = try await setup.telepresence(["intercept", "echo", "--port", "\(server.port)"])
            #expect(run.status == 0, "\(run.stderr)")
            let session = await setup.sessionID
            try await waitUntil("the first agent to be claimed") { setup.agent.claimedSessions == [session] }

            let rolled = try await FakeAgent.start()
            rolled.allow(session)
            setup.manager.update("echo") { info in
                info.agents = [.with {
                    $0.podName = "echo-7d9c-fghij"
                    $0.namespace = "default"
                    $0.podIp = "127.0.0.1"
                    $0.tunnelPort = Int32(rolled.port)
                }]
            }
            try await waitUntil("the new pod's agent to be claimed") { rolled.claimedSessions == [session] }
            try await waitUntil("the old pod's tunnel to close") { setup.agent.claimedSessions.isEmpty }
            let probe = try await rolled.openConnection(
                to: TunnelEndpoint(address: IPAddress("127.0.0.1")!, port: UInt16(server.port)), initialData: "after the roll")
            try await waitUntil("the answer through the new pod") { probe.snapshot.received == "workstation got: after the roll" }
            await rolled.stop()
            await server.stop()
        }
    }

    /// The manager ends an intercept (its workload was deleted, an admin revoked it): the
    /// handler is stopped, the tunnel closes, status no longer shows it.
    @Test func anInterceptTheManagerEndsStopsItsHandler() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            let folder = setup.sandbox.folder.path
            let pid = try ChildProcess.spawn(ChildProcess.Launch(
                executable: CommandRunner.executable("telepresence").path,
                arguments: ["intercept", "echo", "--port", "9095", "--", "sh", "-c", "touch \(folder)/started; exec sleep 60"],
                environment: setup.environment.map { "\($0.key)=\($0.value)" }))
            try await waitUntil("the handler to start") { FileManager.default.fileExists(atPath: "\(folder)/started") }
            let session = await setup.sessionID
            try await waitUntil("the agent to be claimed") { setup.agent.claimedSessions == [session] }
            setup.manager.drop("echo")
            let status = try await waitForEvent("the CLI to exit once the manager ended the intercept") { await ChildProcess.waitForExit(pid) }
            #expect(status == 128 + SIGTERM)
            try await waitUntil("the tunnel to close") { setup.agent.claimedSessions.isEmpty }
            #expect(await setup.daemon.connector.status()?.intercepts.isEmpty == true)
        }
    }

    /// quit (here: the daemon's disconnect) ends every intercept at the manager.
    @Test func disconnectEndsEveryIntercept() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            for (name, port) in [("echo", 9096), ("web", 9097)] {
                let run = try await setup.telepresence(["intercept", name, "--port", "\(port)"])
                #expect(run.status == 0, "\(run.stderr)")
            }
            #expect(setup.manager.intercepts.count == 2)
            await setup.daemon.connector.disconnect()
            #expect(setup.manager.intercepts.isEmpty)
            #expect(Set(setup.manager.state.withLock { $0.removed }) == ["echo", "web"])
            try await waitUntil("the tunnels to close") { setup.agent.claimedSessions.isEmpty }
        }
    }

    /// --to-pod PORT: 127.0.0.1:PORT reaches the intercepted pod's PORT (here a server on the
    /// pod's address, 127.0.0.2), and is gone after leave.
    @Test func toPodForwardsALocalPortToThePod() async throws {
        try await Self.withSetup { setup in
            let pod = try await LocalServer.start(host: "127.0.0.2")
            let agent = try await FakeAgent.start(host: "127.0.0.2")
            setup.manager.onCreate { request in
                agent.allow(request.session.sessionID)
                var info = Setup.active(request, agentPort: agent.port, environment: [:])
                info.agents[0].podIp = "127.0.0.2"
                return info
            }
            let run = try await setup.telepresence(["intercept", "echo", "--port", "9098", "--to-pod", "\(pod.port)"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(setup.manager.intercepts.first?.spec.localPorts == ["\(pod.port)/TCP"])
            let answer = try await ProcessRunner.run(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(pod.port); printf hi >&3; head -c 19 <&3"])
            #expect(answer.stdout == "workstation got: hi", "\(answer.stderr)")
            #expect(pod.connections == 1)
            _ = try await setup.telepresence(["leave", "echo"])
            let after = try await ProcessRunner.run(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(pod.port)"])
            #expect(after.status != 0, "the forwarder is gone after leave")
            await agent.stop()
            await pod.stop()
        }
    }

    /// intercept implies connect, as in Telepresence: a daemon that is not connected connects
    /// first (with the kubeconfig the CLI was given), then intercepts.
    @Test func interceptConnectsFirstWhenNotConnected() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            await setup.daemon.connector.disconnect()
            #expect(await setup.daemon.connector.status() == nil)
            let run = try await setup.telepresence(["intercept", "echo", "--port", "9099"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.hasPrefix("Using Deployment echo\n"))
            #expect(await setup.daemon.connector.status()?.intercepts.map(\.name) == ["echo"])
        }
    }

    // MARK: Errors

    @Test func theManagersRefusalsAreOneSentenceAndLeaveNothing() async throws {
        try await Self.withSetup { setup in
            let cases: [(RPCError.Code, String)] = [
                (.notFound, "workload nope not found in namespace default; 'telepresence list' shows the workloads"),
                (.invalidArgument, "service echo has no port named grpc; use one of: http, metrics"),
                (.alreadyExists, "port http of echo is intercepted by alice@laptop since 2026-12-07 10:00:00; ask them to leave"),
                (.failedPrecondition, "the pods of echo cannot start: ImagePullBackOff for image sandbox.local/nope"),
            ]
            for (code, message) in cases {
                setup.manager.onCreate { _ in throw RPCError(code: code, message: message) }
                let run = try await setup.telepresence(["intercept", "nope", "--port", "8080:grpc"])
                #expect(run.status == 1, "\(code)")
                #expect(run.stderr.contains(message), "\(run.stderr)")
                #expect(run.stdout.isEmpty)
            }
            // An answer that is not ACTIVE: its message, and the manager is told to drop it.
            setup.manager.onCreate { request in
                .with {
                    $0.spec = request.spec
                    $0.disposition = .agentError
                    $0.message = "the traffic-agent of echo crashed: CrashLoopBackOff"
                }
            }
            let failed = try await setup.telepresence(["intercept", "echo"])
            #expect(failed.status == 1 && failed.stderr.contains("CrashLoopBackOff"), "\(failed.stderr)")
            #expect(setup.manager.state.withLock { $0.removed } == ["echo"])
            #expect(await setup.daemon.connector.status()?.intercepts.isEmpty == true)
        }
    }

    @Test func anAgentThatRefusesTheClaimEndsTheIntercept() async throws {
        try await Self.withSetup { setup in
            let agent = setup.agent
            setup.manager.onCreate { request in Setup.active(request, agentPort: agent.port, environment: [:]) }
            let run = try await setup.telepresence(["intercept", "echo"])
            #expect(run.status == 1)
            #expect(run.stderr.contains("refused this client's claim"), "\(run.stderr)")
            #expect(setup.manager.intercepts.isEmpty, "nothing is left in the manager")
            #expect(!setup.agent.refusedSessions.isEmpty)
        }
    }

    @Test func badFlagsAreRefusedBeforeAnythingHappens() async throws {
        let cases: [([String], String)] = [
            (["--port", "80x"], "the local port must be a number from 1 to 65535"),
            (["--port", "8080:"], "the identifier must be a service port's name or number"),
            (["--port", "8080:http/SCTP"], "the identifier must be a service port's name or number"),
            (["--env-syntax", "bash"], "--env-syntax bash is unknown; use docker, compose, sh, csh, cmd, ps or json"),
            (["--to-pod", "eighty"], "--to-pod eighty is not a port"),
            (["--address", "my-laptop"], "--address my-laptop is not an IP address"),
        ]
        for (flags, message) in cases {
            let run = try await CommandRunner.run("telepresence", ["intercept", "echo"] + flags, environment: ["HOME": "/nonexistent"])
            #expect(run.status == 1, "\(flags)")
            #expect(run.stderr.contains(message), "\(flags): \(run.stderr)")
            #expect(!run.stderr.contains("Usage:"), "one sentence, not the usage")
        }
        let uninstall = try await CommandRunner.run("telepresence", ["uninstall"], environment: ["HOME": "/nonexistent"])
        #expect(uninstall.status != 0 && uninstall.stderr.contains("--all-agents"))
    }

    @Test func uninstallAsksTheManager() async throws {
        try await Self.withSetup { setup in
            let run = try await setup.telepresence(["uninstall", "echo", "web"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout == "Removed the traffic-agent from echo\nRemoved the traffic-agent from web\n")
            #expect(setup.manager.state.withLock { $0.uninstalled } == ["echo", "web"])
        }
    }

    // MARK: The handler after --

    @Test func theHandlerGetsTheEnvironmentAndItsExitCodeIsTheCLIs() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            let out = setup.sandbox.folder.appendingPathComponent("handler.out").path
            let run = try await setup.telepresence([
                "intercept", "echo", "--port", "9092", "--",
                "sh", "-c", "echo \"$APP_COLOR $TELEPRESENCE_CONTAINER $TELEPRESENCE_INTERCEPT_ID $TELEPRESENCE_MOUNTS\" > \(out); exit 7",
            ])
            #expect(run.status == 7, "\(run.stderr)")
            let session = await setup.sessionID
            #expect(try String(contentsOfFile: out, encoding: .utf8)
                == "blue echo \(session):echo /var/run/secrets/kubernetes.io/serviceaccount\n")
            #expect(setup.manager.intercepts.isEmpty, "the intercept ends with the handler")
            #expect(await setup.daemon.connector.status()?.intercepts.isEmpty == true)
        }
    }

    @Test func sigintReachesTheHandlerFirstThenTheInterceptEnds() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            let folder = setup.sandbox.folder.path
            let script = "trap 'echo interrupted > \(folder)/int; exit 3' INT; touch \(folder)/started; while :; do sleep 0.05; done"
            let pid = try ChildProcess.spawn(ChildProcess.Launch(
                executable: CommandRunner.executable("telepresence").path,
                arguments: ["intercept", "echo", "--port", "9093", "--", "sh", "-c", script],
                environment: setup.environment.map { "\($0.key)=\($0.value)" }))
            try await waitUntil("the handler to start") { FileManager.default.fileExists(atPath: "\(folder)/started") }
            #expect(setup.manager.intercepts.count == 1)
            kill(pid, SIGINT)
            let status = try await waitForEvent("the CLI to exit after SIGINT") { await ChildProcess.waitForExit(pid) }
            #expect(status == 3, "the handler's exit code")
            #expect(try String(contentsOfFile: "\(folder)/int", encoding: .utf8) == "interrupted\n")
            #expect(setup.manager.intercepts.isEmpty)
        }
    }

    @Test func leaveFromAnotherShellStopsTheHandler() async throws {
        try await Self.withSetup { setup in
            setup.answerActive()
            let folder = setup.sandbox.folder.path
            let pid = try ChildProcess.spawn(ChildProcess.Launch(
                executable: CommandRunner.executable("telepresence").path,
                arguments: ["intercept", "echo", "--port", "9094", "--", "sh", "-c", "touch \(folder)/started; exec sleep 60"],
                environment: setup.environment.map { "\($0.key)=\($0.value)" }))
            try await waitUntil("the handler to start") { FileManager.default.fileExists(atPath: "\(folder)/started") }
            try await waitUntil("the handler to be registered") {
                await setup.daemon.connector.status()?.intercepts.count == 1
            }
            let leave = try await setup.telepresence(["leave", "echo"])
            #expect(leave.status == 0, "\(leave.stderr)")
            let status = try await waitForEvent("the CLI to exit once its handler was stopped") { await ChildProcess.waitForExit(pid) }
            #expect(status == 128 + SIGTERM)
        }
    }
}

/// A server on 127.0.0.1 that answers each read with "workstation got: " and the bytes.
final class LocalServer: Sendable {
    let channel: any Channel
    let port: Int
    private let accepted: Counter

    private final class Counter: Sendable {
        let value = Mutex(0)
    }

    private init(channel: any Channel, accepted: Counter) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.accepted = accepted
    }

    var connections: Int { accepted.value.withLock { $0 } }

    static func start(host: String = "127.0.0.1") async throws -> LocalServer {
        let counter = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                counter.value.withLock { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Answer()) }
            }
            .bind(host: host, port: 0).get()
        return LocalServer(channel: channel, accepted: counter)
    }

    /// A port nothing listens on (bound and released).
    static func freePort() throws -> Int {
        let server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        let port = server.localAddress?.port ?? 0
        try server.close().wait()
        return port
    }

    func stop() async {
        try? await channel.close().get()
    }

    private final class Answer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var reply = ByteBuffer(string: "workstation got: ")
            var bytes = unwrapInboundIn(data)
            reply.writeBuffer(&bytes)
            context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        }
    }
}

/// Answers each datagram with "udp got: " and its bytes.
private final class UDPAnswer: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var envelope = unwrapInboundIn(data)
        var reply = ByteBuffer(string: "udp got: ")
        reply.writeBuffer(&envelope.data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: reply)), promise: nil)
    }
}
