import Foundation
import Testing
import TestSupport
import Sandbox
@testable import SandboxAPIServer
@testable import SandboxNetwork

/// Workstations added to a running cluster (`sandbox-cluster workstation add`): each reaches the
/// API server at 192.0.2.1 as the first one does, and neither pods, services nor the other
/// workstations, even with a route; they go with the cluster.
@Suite("Cluster network: added workstations", .serialized, .enabled(where: .clusterNetwork))
struct AddedWorkstationTests {
    @Test("an added workstation reaches the API server and nothing else, and goes with the cluster")
    func isolatedLikeTheFirst() async throws {
        try HostRequirement.clusterNetwork.require()
        try await NetworkedCluster.with("aw") { cluster in
            let pod = try await cluster.startPod("target", ip: "10.244.5.1")
            try cluster.addService("web", clusterIP: "10.96.5.10", ports: [("", 80, 8080, "TCP")], endpoints: [pod.ip])
            let cafe = try AddedWorkstation.add(cluster: cluster.names.cluster, name: "cafe")
            let dev = try AddedWorkstation.add(cluster: cluster.names.cluster, name: "dev-2")
            #expect(AddedWorkstation.list(cluster: cluster.names.cluster) == [cafe, dev])
            #expect((cafe.index, cafe.address, dev.index, dev.address) == (1, "198.51.100.6", 2, "198.51.100.10"))

            for ws in [cafe, dev] {
                let (status, output) = try await runCommand(
                    ["ip", "netns", "exec", ws.namespace, "curl", "-sk", "--max-time", "5", "https://192.0.2.1:6443/healthz"])
                #expect(status == 0 && output.contains("ok"), "\(ws.name): \(output)")
                let resolv = try String(contentsOfFile: ws.etc + "/resolv.conf", encoding: .utf8)
                #expect(resolv.contains("nameserver 192.0.2.1"))
                #expect(try String(contentsOfFile: ws.etc + "/hosts", encoding: .utf8).contains(" \(ws.name)\n"))
            }
            let client = TestPod(name: "cafe", ip: cafe.address, netns: cafe.namespace, port: 0)
            await #expect(try client.ask("tcp", pod.ip, 8080).first?.hasPrefix("error:") == true)
            await #expect(try client.ask("tcp", "10.96.5.10", 80).first?.hasPrefix("error:") == true)
            // Neither the first workstation nor another added one is in reach.
            await #expect(try client.ask("tcp", ClusterAddresses.workstation, 22).first?.hasPrefix("error:") == true)
            await #expect(try client.ask("tcp", dev.address, 22).first?.hasPrefix("error:") == true)
            // A route through the node does not help: the node drops what comes from any workstation link.
            try await runCommand(["ip", "-n", cafe.namespace, "route", "add", "10.244.0.0/16", "via", cafe.gateway])
            try await runCommand(["ip", "-n", cafe.namespace, "route", "add", "10.96.0.0/16", "via", cafe.gateway])
            await #expect(try client.ask("tcp", pod.ip, 8080).first?.hasPrefix("error:") == true)
            await #expect(try client.ask("tcp", "10.96.5.10", 80).first?.hasPrefix("error:") == true)

            #expect(throws: AddedWorkstationError.exists("cafe", cluster: cluster.names.cluster)) {
                try AddedWorkstation.add(cluster: cluster.names.cluster, name: "cafe")
            }
            #expect(throws: AddedWorkstationError.invalidName("ws")) { try AddedWorkstation.add(cluster: cluster.names.cluster, name: "ws") }
            // A removed workstation's index is taken by the next one.
            cafe.remove()
            #expect(!ClusterNamespace.exists(cafe.namespace) && !FileManager.default.fileExists(atPath: cafe.etc))
            #expect(try AddedWorkstation.add(cluster: cluster.names.cluster, name: "next").index == 1)
            // The rest goes with the cluster (NetworkedCluster checks that nothing is left).
        }
    }

    @Test("names that cannot be a namespace's or a host's are refused")
    func names() {
        for good in ["bob", "dev-2", "a"] { #expect(AddedWorkstation.isValidName(good), "\(good)") }
        for bad in ["", "ws", "2dev", "a b", "a/b", "é", String(repeating: "x", count: 33)] {
            #expect(!AddedWorkstation.isValidName(bad), "\(bad)")
        }
    }
}
