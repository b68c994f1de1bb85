import Testing
@testable import VIF

@Suite struct SplitDNSPlanTests {
    let plan = SplitDNSPlan(linkIndex: 7, dnsServer: [198, 18, 0, 1], clusterDomain: "cluster.local.",
                            namespaces: ["default", "ns1", "default", "~Ns2"])

    @Test func theLinkGetsOurServerTheClusterDomainsAndIsNoDefaultRoute() {
        #expect(plan.calls.map(\.busctlArguments) == [
            ["call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager",
             "SetLinkDNS", "ia(iay)", "7", "1", "2", "4", "198", "18", "0", "1"],
            ["call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager",
             "SetLinkDomains", "ia(sb)", "7", "5", "tel2-search", "false", "cluster.local", "true",
             "default", "true", "ns1", "true", "ns2", "true"],
            ["call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager",
             "SetLinkDefaultRoute", "ib", "7", "false"],
            ["call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager",
             "SetLinkLLMNR", "is", "7", "no"],
            ["call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager",
             "SetLinkMulticastDNS", "is", "7", "no"],
            ["call", "org.freedesktop.resolve1", "/org/freedesktop/resolve1", "org.freedesktop.resolve1.Manager",
             "SetLinkDNSSEC", "is", "7", "no"],
        ])
        #expect(plan.revert.busctlArguments.suffix(3) == ["RevertLink", "i", "7"])
    }

    @Test func aNamespaceChangeSendsOnlyTheDomains() {
        var next = SplitDNSPlan(linkIndex: 7, dnsServer: [198, 18, 0, 1], clusterDomain: "cluster.local", namespaces: ["default", "ns3"])
        #expect(next.calls(from: plan).map(\.member) == ["SetLinkDomains"])
        #expect(next.calls(from: plan).first?.arguments == ["7", "4", "tel2-search", "false", "cluster.local", "true", "default", "true", "ns3", "true"])
        #expect(plan.calls(from: plan).isEmpty)
        #expect(next.calls(from: nil) == next.calls)
        // A new device (reconnect) or server is configured from scratch.
        next.linkIndex = 9
        #expect(next.calls(from: plan).count == 6)
    }

    @Test func aNamespaceNamedLikeTheDomainsIsNotListedTwice() {
        let odd = SplitDNSPlan(linkIndex: 3, dnsServer: [198, 18, 0, 1], clusterDomain: "cluster.local", namespaces: ["cluster.local", "tel2-search", ""])
        #expect(odd.domains.map(\.name) == ["tel2-search", "cluster.local"])
    }
}

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
}

@Suite struct ExternalCommandTests {
    @Test func outputAndStatusComeBack() async throws {
        let ok = try await ExternalCommand("sh", ["-c", "echo out; echo err >&2"]).run()
        #expect(ok == .init(status: 0, stdout: "out\n", stderr: "err\n"))
        await #expect(throws: ExternalCommandError.failed("sh -c echo nope >&2; exit 3", 3, "nope")) {
            try await ExternalCommand("sh", ["-c", "echo nope >&2; exit 3"]).check()
        }
        await #expect(throws: ExternalCommandError.notFound("no-such-command-here")) {
            try await ExternalCommand("no-such-command-here", []).run()
        }
    }

    @Test func aHungCommandIsKilledAtItsDeadline() async throws {
        let start = ContinuousClock.now
        await #expect(throws: ExternalCommandError.timedOut("sleep 30", .milliseconds(300))) {
            try await ExternalCommand("sleep", ["30"], timeout: .milliseconds(300)).run()
        }
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
