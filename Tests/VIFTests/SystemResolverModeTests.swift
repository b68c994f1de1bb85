import Foundation
import Testing
@testable import VIF

@Suite struct SystemResolverModeTests {
    @Test func resolvedCountsOnlyWhenItRunsAndTheResolverGoesThroughIt() {
        let stub = "# This is /run/systemd/resolve/stub-resolv.conf\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n"
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: true, resolvConfText: stub, resolvConfLinkTarget: nil) == .resolvedSplitDNS)
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: true, resolvConfText: "nameserver 127.0.0.54\n", resolvConfLinkTarget: nil) == .resolvedSplitDNS)
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: true, resolvConfText: "", resolvConfLinkTarget: "../run/systemd/resolve/stub-resolv.conf") == .resolvedSplitDNS)
        // Not running: resolv.conf, whatever it says.
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: false, resolvConfText: stub, resolvConfLinkTarget: "/run/systemd/resolve/stub-resolv.conf") == .resolvConfOverride)
        // Running but bypassed: another server listed (alone or beside the stub), resolved's
        // upstream list linked instead of its stub, or no server at all.
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: true, resolvConfText: "nameserver 10.0.0.2\n", resolvConfLinkTarget: nil) == .resolvConfOverride)
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: true, resolvConfText: "nameserver 127.0.0.53\nnameserver 10.0.0.2\n", resolvConfLinkTarget: nil) == .resolvConfOverride)
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: true, resolvConfText: "nameserver 10.0.0.2\n", resolvConfLinkTarget: "/run/systemd/resolve/resolv.conf") == .resolvConfOverride)
        #expect(SystemResolverMode.detect(resolvedOwnsBusName: true, resolvConfText: "# nameserver 127.0.0.53\n", resolvConfLinkTarget: nil) == .resolvConfOverride)
    }

    @Test func withoutResolvedOnTheBusTheStubDoesNotCount() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tp-mode-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let conf = folder.appendingPathComponent("resolv.conf").path
        try "nameserver 127.0.0.53\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let noBus = "unix:path=\(folder.path)/no-bus"
        #expect(await SystemResolverMode.probe(resolvConfPath: conf, systemBusAddress: noBus) == .resolvConfOverride)
        #expect(await !ResolvedSplitDNS.isRunning(systemBusAddress: noBus))
    }

    @Test func aFailedApplyIsATypedErrorAndLeavesNothingApplied() async throws {
        let link = ResolvedSplitDNS(systemBusAddress: "unix:path=/nonexistent/tp-no-bus")
        await #expect(throws: ResolvedSplitDNSError.self) {
            try await link.apply(SplitDNSPlan(linkIndex: 5, dnsServer: [198, 18, 0, 1], clusterDomain: "cluster.local", namespaces: ["default"]))
        }
        #expect(await link.current == nil)
        // Nothing applied, nothing to revert.
        try await link.revert()
    }
}
