import Foundation
import Testing
import TestSupport

/// Two developers on one sandbox cluster: a workstation added with `sandbox-cluster workstation
/// add` reaches only the API server until it connects, runs its own daemons with its own
/// hostname, and works beside the first workstation: both connected, each intercepting a
/// workload of its own to its own local server, neither disturbing the other.
@Suite(.serialized, .enabled(where: .root))
struct SecondWorkstationTests {
    @Test func twoWorkstationsConnectAndInterceptSideBySide() async throws {
        try await Workstation.withManager { first in
            try await first.deployInterceptApps()
            let bob = try await first.addWorkstation("bob")

            // Before it connects, bob's machine reaches the API server and nothing else.
            #expect(try await bob.expectSuccess(["hostname"]) == "bob")
            #expect(try await bob.expectSuccess(["kubectl", "get", "deployment", "echo-sym", "-o", "name"]) == "deployment.apps/echo-sym")
            #expect(try await bob.run(["curl", "-s", "-m", "2", "http://echo-sym/"]).status != 0)
            let podIP = try await first.expectSuccess(["kubectl", "get", "pods", "-l", "app=echo-sym", "-o", "jsonpath={.items[0].status.podIP}"])
            #expect(try await bob.run(["curl", "-s", "-m", "2", "http://\(podIP):8080/"]).status != 0)
            // Nor the first workstation.
            #expect(try await bob.run(["curl", "-s", "-m", "2", "http://192.0.2.2:1/"]).status != 0)
            #expect(try await bob.expectSuccess(["dig", "+short", "+time=2", "outside.test"]) == "192.0.2.1")

            try await bob.expectSuccess(["telepresence", "connect"])
            // Each has its own pair of daemons.
            #expect(first.daemonProcesses().count == 2)
            #expect(bob.daemonProcesses().count == 2)
            #expect(Set(first.daemonProcesses()).isDisjoint(with: bob.daemonProcesses()))
            for ws in [first, bob] {
                let body = try await ws.expectSuccess(["curl", "-s", "-m", "5", "http://echo-sym/from-\(ws.workstation ?? "first")"])
                #expect(body.contains("\"pod\":\"echo-sym-"), "\(body)")
            }

            // Each intercepts a workload of its own to its own local server, at once.
            let firstLocal = try await first.startEcho(as: "first", port: 8181)
            defer { firstLocal.kill() }
            let bobLocal = try await bob.startEcho(as: "bob", port: 8181)
            defer { bobLocal.kill() }
            let one = try await first.run(["telepresence", "intercept", "echo-sym", "--port", "8181:http"], timeout: .seconds(90))
            #expect(one.status == 0, "\(one.combined)")
            let two = try await bob.run(["telepresence", "intercept", "echo-num", "--port", "8181:http"], timeout: .seconds(90))
            #expect(two.status == 0, "\(two.combined)")
            #expect(try await first.fromCluster("http://echo-sym/a").contains("\"pod\":\"first\""))
            #expect(try await first.fromCluster("http://echo-num/b").contains("\"pod\":\"bob\""))
            // Each sees the other's engagement, held by another client.
            let listed = try await bob.expectSuccess(["telepresence", "list"])
            #expect(listed.contains("echo-sym") && listed.contains("echo-num"), "\(listed)")

            // bob leaves and quits: the first workstation's intercept and network are untouched.
            try await bob.expectSuccess(["telepresence", "leave", "echo-num"])
            try await waitUntil("echo-num's app to answer again after bob's leave", timeout: .seconds(10)) {
                (try? await first.fromCluster("http://echo-num/after"))?.contains("\"pod\":\"echo-num-") == true
            }
            try await bob.expectSuccess(["telepresence", "quit"])
            #expect(bob.daemonProcesses().isEmpty)
            #expect(try await first.fromCluster("http://echo-sym/still").contains("\"pod\":\"first\""))
            #expect(try await first.expectSuccess(["curl", "-s", "-m", "5", "http://echo-num/"]).contains("\"pod\":\"echo-num-"))
            try await first.expectSuccess(["telepresence", "leave", "echo-sym"])
        }
    }
}
