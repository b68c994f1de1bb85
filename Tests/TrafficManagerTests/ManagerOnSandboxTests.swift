import Diagnostics
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KubeClient
import RPC
import Sandbox
import SwiftProtobuf
import TestSupport
import Testing
import TrafficManager

/// The traffic-manager in process against a sandbox API server, through a kubeconfig (what the
/// pod does with its service account), spoken to over real gRPC on 127.0.0.1.
@Suite(.serialized) struct ManagerOnSandboxTests {
    typealias ManagerClient = Telepresence_Manager_Manager.Client<HTTP2ClientTransport.Posix>

    /// A sandbox with `ambassador` (every sandbox has the kube-dns Service), a manager on an ephemeral port, and a
    /// gRPC client to it; all stopped and removed afterwards, also on failure.
    static func withManager(
        ttl: Duration = .seconds(30), _ body: (ManagerClient, KubeClient, TrafficManager) async throws -> Void
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
            let settings = ManagerSettings(
                namespace: "ambassador", serverPort: 0, serverHost: "127.0.0.1", clientSessionTTL: ttl,
                expiryInterval: .milliseconds(50), resolvConfPath: resolvConf.path)
            let started = try await TrafficManager.start(settings: settings, client: kube)
            manager = started
            let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: started.port), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { grpc in
                try await body(ManagerClient(wrapping: grpc), kube, started)
            }
            await started.stop()
            try await server.shutdown()
        } catch {
            await manager?.stop()
            try? await server.shutdown()
            throw error
        }
    }

    static func arrive(_ manager: ManagerClient) async throws -> Telepresence_Manager_SessionInfo {
        try await manager.arriveAsClient(request: ClientRequest(message: .with {
            $0.name = "dev@laptop"
            $0.namespace = "default"
            $0.version = ProductVersion.current
        }))
    }

    @Test func clusterInfoHasTheSubnetsDomainAndDNS() async throws {
        try await Self.withManager { manager, kube, _ in
            let session = try await Self.arrive(manager)
            #expect(!session.sessionID.isEmpty)
            // Telepresence's cluster id: the uid of the default namespace.
            let defaultNamespace: Namespace = try await kube.get(.namespaces, name: "default")
            #expect(session.clusterID == defaultNamespace.metadata.uid)
            let info = try await manager.watchClusterInfo(request: ClientRequest(message: session)) { response -> Telepresence_Manager_ClusterInfo? in
                for try await info in response.messages { return info }
                return nil
            }
            let facts = try #require(info)
            #expect(facts.serviceSubnet.subnet?.description == ClusterAddresses.serviceSubnet)
            #expect(facts.podSubnets.map { $0.subnet?.description } == [ClusterAddresses.podSubnet])
            #expect(facts.podCidrStrategy == "nodes")
            #expect(facts.clusterDomain == "cluster.local")
            #expect([UInt8](facts.kubeDnsIp) == [10, 96, 0, 10])
            let version = try await manager.version(request: ClientRequest(message: Google_Protobuf_Empty()))
            #expect(version.version == ProductVersion.current)
            // The probe was a dry run: no Service was left behind.
            let services: KubeList<Service> = try await kube.list(.services, namespace: "ambassador")
            #expect(services.items.isEmpty)
        }
    }

    @Test func workloadsStreamASnapshotThenChanges() async throws {
        try await Self.withManager { manager, kube, _ in
            let session = try await Self.arrive(manager)
            _ = try await kube.create(.deployments, Deployment(
                metadata: ObjectMeta(name: "web", namespace: "default"),
                spec: DeploymentSpec(
                    replicas: 1, selector: LabelSelector(matchLabels: ["app": "web"]),
                    template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "web"]), spec: PodSpec(containers: [Container(name: "web", image: "web:1")])))))
            let seen = try await manager.watchWorkloads(request: ClientRequest(message: .with {
                $0.sessionInfo = session
                $0.namespace = "default"
            })) { response in
                var names: [String] = []
                var snapshotKinds: [String] = []
                for try await delta in response.messages {
                    if delta.snapshot {
                        snapshotKinds = delta.events.map { "\($0.workload.kind)/\($0.workload.name)" }
                        // A change after the snapshot arrives as its own delta.
                        _ = try await kube.create(.statefulSets, StatefulSet(
                            metadata: ObjectMeta(name: "db", namespace: "default"),
                            spec: StatefulSetSpec(
                                replicas: 1, selector: LabelSelector(matchLabels: ["app": "db"]),
                                template: PodTemplateSpec(metadata: ObjectMeta(labels: ["app": "db"]), spec: PodSpec(containers: [Container(name: "db", image: "db:1")])))))
                        continue
                    }
                    names += delta.events.filter { $0.type == .addedUnspecified }.map { "\($0.workload.kind)/\($0.workload.name)" }
                    if names.contains("StatefulSet/db") { break }
                }
                return (snapshotKinds, names)
            }
            #expect(seen.0 == ["Deployment/web"])  // its ReplicaSet is not listed
            #expect(seen.1.contains("StatefulSet/db"))
        }
    }

    @Test func sessionsWithoutKeepaliveExpire() async throws {
        try await Self.withManager(ttl: .milliseconds(300)) { manager, _, traffic in
            let kept = try await Self.arrive(manager)
            let quiet = try await Self.arrive(manager)
            // Keep one session alive (a Remain every 50 ms, well inside its 300 ms TTL) until the
            // manager has expired the other.
            try await waitUntil("the session without Remain to expire after its TTL", pollingEvery: .milliseconds(50)) {
                _ = try await manager.remain(request: ClientRequest(message: .with { $0.session = kept }))
                return traffic.sessions.count == 1
            }
            _ = try await manager.remain(request: ClientRequest(message: .with { $0.session = kept }))
            #expect(traffic.sessions.count == 1)
            await #expect(throws: RPCError.self) {
                _ = try await manager.remain(request: ClientRequest(message: .with { $0.session = quiet }))
            }
            _ = try await manager.depart(request: ClientRequest(message: kept))
            #expect(traffic.sessions.count == 0)
        }
    }
}

