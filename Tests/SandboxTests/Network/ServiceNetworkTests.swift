import Foundation
import Testing
import TestSupport
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// Services made real in the node namespace, seen from test pods (kernel sockets in their own
/// network namespaces on the bridge), as a workload on a real cluster sees them.
@Suite("Cluster network: services", .serialized, .enabled(where: .clusterNetwork))
struct ServiceNetworkTests {
    @Test("a ClusterIP service answers from its pod over TCP and UDP, and balances over two pods")
    func clusterIPBalances() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("svc") { cluster in
            let one = try await cluster.startPod("one", ip: "10.244.1.1")
            let two = try await cluster.startPod("two", ip: "10.244.1.2")
            let client = try await cluster.startPod("client", ip: "10.244.1.3")
            try cluster.addService("web", clusterIP: "10.96.1.10",
                                   ports: [("http", 80, 8080, "TCP"), ("echo", 7, 8080, "UDP")], endpoints: [one.ip])
            let first = try await waitFor(10) { try await client.ask("tcp", "10.96.1.10", 80) == ["one"] }
            #expect(first, "the service never answered from its pod")
            await #expect(try client.ask("udp", "10.96.1.10", 7, count: 3) == ["one", "one", "one"])

            try cluster.setEndpoints("web", addresses: [one.ip, two.ip], ports: [("http", 8080, "TCP"), ("echo", 8080, "UDP")])
            let both = try await waitFor(10) { await Set(try client.ask("tcp", "10.96.1.10", 80, count: 30)) == ["one", "two"] }
            #expect(both, "connections were not spread over both pods")
            let udp = try await client.ask("udp", "10.96.1.10", 7, count: 30)
            #expect(Set(udp) == ["one", "two"], "\(udp)")
        }
    }

    @Test("a pod reaches itself through its own service (hairpin)")
    func hairpin() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("hp") { cluster in
            let pod = try await cluster.startPod("self", ip: "10.244.2.1")
            try cluster.addService("me", clusterIP: "10.96.2.10", ports: [("", 80, 8080, "TCP")], endpoints: [pod.ip])
            var last: [String] = []
            let reached = try await waitFor(10) {
                last = try await pod.ask("tcp", "10.96.2.10", 80)
                return last == ["self"]
            }
            #expect(reached, "\(last)")
        }
    }

    @Test("a service without endpoints refuses at once; the kubernetes service leads to the API server")
    func noEndpointsAndKubernetesService() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("ke") { cluster in
            let pod = try await cluster.startPod("client", ip: "10.244.3.1")
            try cluster.addService("empty", clusterIP: "10.96.3.10", ports: [("", 80, 8080, "TCP")], endpoints: nil)
            var last: [String] = []
            let refused = try await waitFor(10) {
                last = try await pod.ask("tcp", "10.96.3.10", 80)
                return last.first?.contains("ConnectionRefused") == true
            }
            #expect(refused, "\(last)")
            // Refused, not dropped: each of five tries is answered with a reset, none times out.
            let answers = try await pod.ask("tcp", "10.96.3.10", 80, count: 5)
            #expect(answers.count == 5 && answers.allSatisfy { $0.contains("ConnectionRefused") }, "\(answers)")

            let caFile = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString).crt")
            defer { try? FileManager.default.removeItem(at: caFile) }
            try cluster.server.certificateAuthority.certificatePEM.write(to: caFile, atomically: true, encoding: .utf8)
            // Verified TLS against the cluster CA: the certificate lists 10.96.0.1.
            let (status, output) = try await pod.run([
                "curl", "-sS", "--max-time", "5", "--cacert", caFile.path,
                "-H", "Authorization: Bearer \(cluster.server.token)", "https://10.96.0.1/api",
            ])
            #expect(status == 0 && output.contains("APIVersions"), "\(output)")
            let endpoints = cluster.server.store.get(ResourceCatalog.endpoints, namespace: "default", name: "kubernetes")
            #expect(endpoints?.value["subsets"]?[0]?["addresses"]?[0]?["ip"]?.stringValue == "192.0.2.1")
        }
    }

    @Test("the workstation reaches the API server at 192.0.2.1 but neither pods nor services, even with a route")
    func workstationIsolation() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("ws") { cluster in
            let pod = try await cluster.startPod("target", ip: "10.244.4.1")
            try cluster.addService("web", clusterIP: "10.96.4.10", ports: [("", 80, 8080, "TCP")], endpoints: [pod.ip])
            let ws = cluster.names.workstationNamespace
            let (status, output) = try await runCommand(["ip", "netns", "exec", ws, "curl", "-sk", "--max-time", "5", "https://192.0.2.1:6443/healthz"])
            #expect(status == 0 && output.contains("ok"), "\(output)")
            let client = TestPod(name: "ws", ip: "192.0.2.2", netns: ws, port: 0)
            await #expect(try client.ask("tcp", pod.ip, 8080).first?.hasPrefix("error:") == true)
            await #expect(try client.ask("tcp", "10.96.4.10", 80).first?.hasPrefix("error:") == true)
            // Even a route through the node does not help: the node drops the workstation's
            // packets to the cluster subnets.
            try await runCommand(["ip", "-n", ws, "route", "add", "10.244.0.0/16", "via", "192.0.2.1"])
            try await runCommand(["ip", "-n", ws, "route", "add", "10.96.0.0/16", "via", "192.0.2.1"])
            await #expect(try client.ask("tcp", pod.ip, 8080).first?.hasPrefix("error:") == true)
            await #expect(try client.ask("tcp", "10.96.4.10", 80).first?.hasPrefix("error:") == true)
            // While a pod does reach it.
            let other = try await cluster.startPod("other", ip: "10.244.4.2")
            let reached = try await waitFor(10) { try await other.ask("tcp", "10.96.4.10", 80) == ["target"] }
            #expect(reached)
        }
    }
}
