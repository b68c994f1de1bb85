/// What systemd-resolved is told while connected, as a value: the calls that give the TUN
/// device's link our DNS server and the cluster's names, and the call that takes them back.
/// Making the calls is `ResolvedSplitDNS`'s job; this type does no I/O.
///
/// - The link's DNS server is our server on the device's address.
/// - Routing domains `~<cluster domain>`, `~<namespace>` for every mapped namespace, `~svc` and
///   `~pod`, so fully qualified cluster names, `svc.ns`, `svc.ns.svc` and `a-b-c-d.ns.pod` go to
///   us (the names our responder treats as the cluster's) and nothing else does.
/// - The search domain `tel2-search` (also a routing domain): resolved sends a single-label name
///   to DNS only with a search domain appended, and our responder answers `name.tel2-search`
///   as a name in the connected namespace.
/// - Not a default route: names outside those domains stay with the machine's own servers.
/// - LLMNR and mDNS off on the link (they would multicast every bare name into the tunnel), and
///   DNSSEC off (cluster answers are unsigned; a machine with DNSSEC=yes would reject them).
public struct SplitDNSPlan: Equatable, Sendable {
    /// The TUN device's interface index (resolved's calls name links by index).
    public var linkIndex: Int32
    /// Our DNS server's IPv4 address, four bytes.
    public var dnsServer: [UInt8]
    public var clusterDomain: String
    /// Every namespace whose services answer to `svc.ns`, without duplicates, in order.
    public var namespaces: [String]
    public var searchDomain: String

    public init(linkIndex: Int32, dnsServer: [UInt8], clusterDomain: String, namespaces: [String], searchDomain: String = "tel2-search") {
        self.linkIndex = linkIndex
        self.dnsServer = dnsServer
        self.clusterDomain = Self.trimmed(clusterDomain)
        var seen = Set<String>()
        self.namespaces = namespaces.map(Self.trimmed).filter { !$0.isEmpty && seen.insert($0).inserted }
        self.searchDomain = Self.trimmed(searchDomain)
    }

    /// The link's domains: the search domain, then the routing-only ones (the cluster domain,
    /// `svc`, `pod`, and each namespace).
    public var domains: [(name: String, routingOnly: Bool)] {
        var result: [(name: String, routingOnly: Bool)] = [(searchDomain, false)]
        var seen: Set<String> = [searchDomain]
        for domain in [clusterDomain, "svc", "pod"] + namespaces where seen.insert(domain).inserted {
            result.append((domain, true))
        }
        return result
    }

    /// The calls that configure the link, in order: server, domains, not a default route, and
    /// the multicast protocols and DNSSEC off.
    public var calls: [ResolvedCall] {
        [
            .setLinkDNS(linkIndex, servers: [dnsServer]),
            .setLinkDomains(linkIndex, domains),
            .setLinkDefaultRoute(linkIndex, false),
            .setLinkMode("SetLinkLLMNR", linkIndex, "no"),
            .setLinkMode("SetLinkMulticastDNS", linkIndex, "no"),
            .setLinkMode("SetLinkDNSSEC", linkIndex, "no"),
        ]
    }

    /// The calls that bring the link from `previous` to this plan: only the domains when just
    /// the namespaces changed, everything otherwise.
    public func calls(from previous: SplitDNSPlan?) -> [ResolvedCall] {
        guard let previous, previous.linkIndex == linkIndex, previous.dnsServer == dnsServer else { return calls }
        if previous == self { return [] }
        return [.setLinkDomains(linkIndex, domains)]
    }

    /// The call that forgets all of it (quit, SIGTERM). After a crash there is nothing to
    /// revert: the device goes with the process and resolved drops the link's settings with it.
    public var revert: ResolvedCall { .revertLink(linkIndex) }

    private static func trimmed(_ domain: String) -> String {
        var text = Substring(domain)
        while text.hasPrefix("~") || text.hasPrefix(".") { text = text.dropFirst() }
        while text.hasSuffix(".") { text = text.dropLast() }
        return text.lowercased()
    }
}
