import Foundation
import TestSupport
import Testing
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode

/// Entering a network namespace (`NetworkNamespace`, and the process node's dial into a pod on
/// top of it): the code runs inside, on a thread that ends with it, and a missing namespace is
/// named in the error each caller reports.
@Suite("Network namespaces: running code inside one", .serialized)
struct NetworkNamespaceTests {
    @Test("a namespace that is not there is named: 'start the cluster' for the cluster's, 'is gone' for a pod's dial")
    func missingNamespaceIsNamed() async throws {
        let name = ClusterNames(cluster: testClusterName("nsgone")).prefix + "none"
        await #expect(throws: ClusterNetworkError.namespaceMissing(name)) {
            try await ClusterNamespace.run(in: name) { 0 }
        }
        let path = "/run/netns/\(name)"
        do {
            let fd = try await connectInNamespace(path, host: "127.0.0.1", port: 1)
            close(fd)
            Issue.record("a dial into a missing namespace connected")
        } catch PodRuntimeError.failed(let message) {
            #expect(message == "network namespace \(path) is gone: No such file or directory")
        }
    }

    @Test("the code runs inside the namespace, and no thread of the process stays there afterwards",
          .enabled(where: .clusterNetwork))
    func codeRunsInsideOnAThreadThatEnds() async throws {
        try HostRequirement.clusterNetwork.require()
        let name = ClusterNames(cluster: testClusterName("nsrun")).prefix + "probe"
        try #require(try await runCommand(["ip", "netns", "add", name]).status == 0)
        defer {
            PodNetwork.removeNamespace(name)
            #expect(!ClusterNamespace.exists(name), "the test's namespace is left")
        }
        let namespace = try #require(ProcessTable.inode(of: "/run/netns/\(name)"))
        let own = ProcessTable.inode(of: "/proc/self/ns/net")
        #expect(own != namespace)

        let (inside, threadsThen) = try await ClusterNamespace.run(in: name) {
            (ProcessTable.inode(of: "/proc/thread-self/ns/net"), Self.threads(in: namespace))
        }
        #expect(inside == namespace)
        #expect(threadsThen == 1, "only the thread that runs the code is inside")
        // A dial made there meets the namespace's own loopback, which is down (the host's would
        // refuse the port instead).
        do {
            let fd = try await connectInNamespace("/run/netns/\(name)", host: "127.0.0.1", port: 1)
            close(fd)
            Issue.record("a dial to 127.0.0.1:1 in a namespace without loopback connected")
        } catch PodRuntimeError.failed(let message) {
            #expect(message.contains("Network is unreachable"), "\(message)")
        }
        // The threads that entered ended: none of this process's threads is left inside (one
        // back in a pool would run its next job there).
        #expect(await waitFor(5) { Self.threads(in: namespace) == 0 }, "\(Self.threads(in: namespace)) threads are still in the namespace")
    }

    /// How many of this process's threads are in the network namespace with inode `namespace`.
    static func threads(in namespace: UInt64) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { ProcessTable.inode(of: "/proc/self/task/\($0)/ns/net") == namespace }.count
    }
}
