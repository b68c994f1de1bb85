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
             "SetLinkDomains", "ia(sb)", "7", "7", "tel2-search", "false", "cluster.local", "true",
             "svc", "true", "pod", "true", "default", "true", "ns1", "true", "ns2", "true"],
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
        #expect(next.calls(from: plan).first?.arguments == ["7", "6", "tel2-search", "false", "cluster.local", "true", "svc", "true", "pod", "true",
                                                             "default", "true", "ns3", "true"])
        #expect(plan.calls(from: plan).isEmpty)
        #expect(next.calls(from: nil) == next.calls)
        // A new device (reconnect) or server is configured from scratch.
        next.linkIndex = 9
        #expect(next.calls(from: plan).count == 6)
    }

    @Test func aNamespaceNamedLikeTheDomainsIsNotListedTwice() {
        let odd = SplitDNSPlan(linkIndex: 3, dnsServer: [198, 18, 0, 1], clusterDomain: "cluster.local", namespaces: ["cluster.local", "tel2-search", "svc", ""])
        #expect(odd.domains.map(\.name) == ["tel2-search", "cluster.local", "svc", "pod"])
    }
}
