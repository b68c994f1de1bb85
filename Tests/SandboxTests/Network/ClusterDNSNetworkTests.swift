import Foundation
import Testing
import TestSupport
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// Cluster DNS as a pod's resolver sees it: `dig` inside a test pod's namespace, with the
/// pod's resolv.conf (search path, ndots 5) and the cluster DNS at 10.96.0.10.
@Suite("Cluster network: DNS", .serialized, .enabled(where: .clusterNetwork))
struct ClusterDNSNetworkTests {
    @Test("services, headless services, SRV, pods and PTR resolve from a pod; other names are NXDOMAIN")
    func namesFromAPod() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("dns") { cluster in
            let pod = try await cluster.startPod("client", ip: "10.244.5.1")
            try cluster.addService("web", clusterIP: "10.96.5.10", ports: [("http", 80, 8080, "TCP")], endpoints: ["10.244.5.1"])
            try cluster.addService("db", clusterIP: "None", ports: [("pg", 5432, 5432, "TCP")], endpoints: ["10.244.5.7", "10.244.5.8"])
            func dig(_ arguments: String...) async throws -> String {
                let (status, output) = try await pod.run(["dig", "+short", "+time=2", "+tries=1"] + arguments)
                #expect(status == 0, "dig \(arguments): \(output)")
                return output.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            await #expect(try dig("+search", "web") == "10.96.5.10")
            await #expect(try dig("+search", "web.default") == "10.96.5.10")
            await #expect(try dig("web.default.svc.cluster.local") == "10.96.5.10")
            await #expect(try dig("+tcp", "web.default.svc.cluster.local") == "10.96.5.10")
            await #expect(try dig("+search", "kube-dns.kube-system") == "10.96.0.10")
            await #expect(try dig("+search", "kubernetes") == "10.96.0.1")
            await #expect(Set(try dig("db.default.svc.cluster.local").split(separator: "\n")) == ["10.244.5.7", "10.244.5.8"])
            await #expect(try dig("10-244-5-8.db.default.svc.cluster.local") == "10.244.5.8")
            await #expect(try dig("SRV", "_http._tcp.web.default.svc.cluster.local") == "0 100 80 web.default.svc.cluster.local.")
            await #expect(try dig("10-244-5-1.default.pod.cluster.local") == "10.244.5.1")
            await #expect(try dig("-x", "10.96.5.10") == "web.default.svc.cluster.local.")
            await #expect(try dig("AAAA", "web.default.svc.cluster.local") == "")

            let (_, missing) = try await pod.run(["dig", "+time=2", "+tries=1", "nothing.default.svc.cluster.local"])
            #expect(missing.contains("status: NXDOMAIN"), "\(missing)")
            let (_, outside) = try await pod.run(["dig", "+time=2", "+tries=1", "example.com"])
            #expect(outside.contains("status: NXDOMAIN"), "\(outside)")
            // A pod's short-name lookup through the system resolver (getaddrinfo, search path).
            let (status, resolved) = try await pod.run(["getent", "hosts", "web"])
            #expect(status == 0 && resolved.hasPrefix("10.96.5.10"), "\(resolved)")
        }
    }

    @Test("the workstation resolves through its own resolver at 192.0.2.1: outside.test only")
    func workstationResolver() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("wdns") { cluster in
            let ws = cluster.names.workstationNamespace
            let (_, conf) = try await runCommand(["ip", "netns", "exec", ws, "cat", "/etc/resolv.conf"])
            #expect(conf.contains("nameserver 192.0.2.1"), "\(conf)")
            let (_, answer) = try await runCommand(["ip", "netns", "exec", ws, "dig", "+short", "+time=2", "+tries=1", "outside.test"])
            #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "192.0.2.1")
            let (_, cluster) = try await runCommand(["ip", "netns", "exec", ws, "dig", "+time=2", "+tries=1", "kubernetes.default.svc.cluster.local"])
            #expect(cluster.contains("status: NXDOMAIN"), "\(cluster)")
        }
    }
}
