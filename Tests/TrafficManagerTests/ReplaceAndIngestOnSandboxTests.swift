import AgentConfig
import Foundation
import GRPCCore
import KubeClient
import RPC
import Testing
import TestSupport
import TrafficManager

/// A replace and an ingest through the in-process manager's gRPC API against a sandbox API
/// server, the test playing each pod's agent (as in `EngagementsOnSandboxTests`): the replace
/// writes its config and rolls, holds its container against intercepts, and its leave puts the
/// normal config back (another roll); an ingest of a workload with its agent changes nothing.
@Suite(.serialized) struct ReplaceAndIngestOnSandboxTests {
    typealias Suite = EngagementsOnSandboxTests

    static func engage(
        _ manager: Suite.ManagerClient, _ session: Telepresence_Manager_SessionInfo, kind: String, name: String = "echo",
        port: String = ""
    ) async throws -> Telepresence_Manager_InterceptInfo {
        try await manager.createIntercept(request: ClientRequest(message: .with {
            $0.session = session
            $0.spec = .with {
                $0.name = name
                $0.kind = kind
                $0.agent = "echo"
                $0.namespace = "default"
                $0.targetHost = "127.0.0.1"
                $0.portIdentifier = port
            }
        }))
    }

    static func config(_ kube: KubeClient) async throws -> AgentConfig {
        let map: ConfigMap = try await kube.get(.configMaps, name: AgentNames.configMap, namespace: "default")
        return try AgentConfig.decode(try #require(map.data?["echo"]))
    }

    static func restartedAt(_ kube: KubeClient) async throws -> String? {
        let d: Deployment = try await kube.get(.deployments, name: "echo", namespace: "default")
        return d.spec?.template.metadata?.annotations?[AgentNames.restartedAtAnnotation]
    }

    @Test func aReplaceRollsHoldsItsContainerAndLeavesTheNormalConfigBehind() async throws {
        try await Suite.withManager { manager, kube, _, _ in
            try await Suite.echo(kube)
            let alice = try await Suite.arrive(manager, as: "alice@laptop")
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let created = Self.engage(manager, alice, kind: "replace", port: "3000:http")
                let pod = try await Suite.rolledPod(kube)
                group.addTask { try await Suite.PlayedAgent().run(manager, pod: pod) }
                let info = try await created
                #expect(info.disposition == .active)
                #expect(info.description_p == "replaced: ports 8080/TCP")
                #expect(info.spec.containerName == "echo")
                #expect(info.spec.replacedPorts.map { "\($0.containerPort)->\($0.targetPort) agent \($0.agentPort)" } == ["8080->3000 agent 8080"])
                #expect(try await Self.config(kube).containers.first?.replace == true)

                // The container is held: an intercept of its port is refused, naming the replace.
                let bob = try await Suite.arrive(manager, as: "bob@desk")
                let refused = await Suite.rpcError { _ = try await Suite.intercept(manager, bob, port: "http") }
                #expect(refused?.code == .alreadyExists)
                #expect(refused?.message.hasPrefix("container echo of deployment echo is already replaced by alice@laptop (replace echo: replaced: ports 8080/TCP, since ") == true,
                        "\(refused?.message ?? "")")

                // Leave: the normal config is back, and the workload rolled again.
                let stamp = try await Self.restartedAt(kube)
                // A restartedAt stamp in whole seconds would make a second roll within the same
                // second write the same value and roll nothing (a stamp from the config's digest
                // differs at once, and this wait returns at once).
                try await waitUntil("the clock to pass the roll's second", timeout: .seconds(2), pollingEvery: .milliseconds(20)) {
                    ISO8601DateFormatter().string(from: Date()) != stamp
                }
                _ = try await manager.removeIntercept(request: ClientRequest(message: .with {
                    $0.session = alice
                    $0.name = "echo"
                }))
                #expect(try await Self.config(kube).containers.first?.replace == false)
                #expect(try await Self.restartedAt(kube) != stamp)

                // An ingest now: the agent config is there, so nothing rolls; it is ACTIVE once
                // the (new) pod's agent arrived, with the container's environment.
                let rolled = try await Suite.rolledPod(kube)
                group.addTask { try await Suite.PlayedAgent().run(manager, pod: rolled) }
                let template: Deployment = try await kube.get(.deployments, name: "echo", namespace: "default")
                let ingest = try await Self.engage(manager, bob, kind: "ingest")
                #expect(ingest.disposition == .active)
                #expect(ingest.description_p == "environment and mounts only")
                #expect(ingest.environment["GREETING"] == "hello from echo")
                // (The played agent of the pod that went away has not departed: both carry it.)
                #expect(ingest.agents.map(\.podName).contains(rolled.metadata.name ?? ""))
                let after: Deployment = try await kube.get(.deployments, name: "echo", namespace: "default")
                #expect(after.spec?.template == template.spec?.template)
                group.cancelAll()
            }
        }
    }

    @Test func aReplaceEndsWithItsClientsSession() async throws {
        try await Suite.withManager { manager, kube, _, _ in
            try await Suite.echo(kube)
            let alice = try await Suite.arrive(manager, as: "alice@laptop")
            try await withThrowingTaskGroup(of: Void.self) { group in
                async let created = Self.engage(manager, alice, kind: "replace")
                let pod = try await Suite.rolledPod(kube)
                group.addTask { try await Suite.PlayedAgent().run(manager, pod: pod) }
                #expect(try await created.spec.replacedPorts.map(\.containerPort) == [8080, 9000])
                _ = try await manager.depart(request: ClientRequest(message: alice))
                try await waitUntil("the normal config to be back after the client departed", timeout: .seconds(10)) {
                    try await Self.config(kube).containers.first?.replace == false
                }
                group.cancelAll()
            }
        }
    }
}
