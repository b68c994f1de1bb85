import NetworkAddress

/// Where a query should be answered from.
public enum DNSRoute: Sendable, Hashable {
    /// Ask the cluster (see `ClusterQuery`).
    case cluster(ClusterQuery)
    /// Answer here with these records (`localhost`).
    case local([ResourceRecord])
    /// Answer NXDOMAIN here: the name can exist neither in the cluster nor upstream
    /// (`wpad.*`, unknown names under the synthetic search domain).
    case nameError
    /// Not a cluster name: forward to the workstation's original resolvers.
    case upstream
}

/// A lookup the cluster should do for a query.
public struct ClusterQuery: Sendable, Hashable {
    /// The fully qualified cluster name to look up, e.g. `web.shop.svc.cluster.local`.
    public var name: DNSName
    public var type: DNSRecordType
    /// The namespace the name belongs to, when it has one; used to invalidate cached answers.
    public var namespace: String?
    /// True when the query name could also be a name outside the cluster (`web.shop` or
    /// `web.shop.corp.example`): a negative cluster answer then goes to the upstream resolvers.
    public var fallsBackToUpstream: Bool

    public init(name: DNSName, type: DNSRecordType, namespace: String?, fallsBackToUpstream: Bool) {
        self.name = name
        self.type = type
        self.namespace = namespace
        self.fallsBackToUpstream = fallsBackToUpstream
    }
}

/// Decides, without I/O, whether a query name is a cluster name and which cluster name to look up,
/// following Telepresence's rules (`shouldDoClusterLookup`): bare names resolve in the connected
/// namespace, `svc.ns` in a known namespace, `*.svc`, `*.pod` and names under the cluster domain
/// as they are, reverse names of addresses in the cluster's subnets, everything else upstream.
public struct ClusterDNSResolver: Sendable {
    public var config: ClusterDNSConfig

    public init(config: ClusterDNSConfig) {
        self.config = config
    }

    private static let svcLabel = Array("svc".utf8)
    private static let podLabel = Array("pod".utf8)
    private static let inAddrArpa = DNSName(unchecked: [Array("in-addr".utf8), Array("arpa".utf8)])
    private static let ip6Arpa = DNSName(unchecked: [Array("ip6".utf8), Array("arpa".utf8)])
    private static let localhost = DNSName(unchecked: [Array("localhost".utf8)])

    /// The route for one question.
    public func route(_ question: DNSQuestion) -> DNSRoute {
        let name = question.name
        let type = question.type
        guard !name.isRoot else { return .upstream }
        if DNSName.labelsEqual(name.labels[0], Array("wpad".utf8)) { return .nameError }
        if name.hasSuffix(Self.localhost) { return .local(localhostRecords(name: name, type: type)) }
        if name.hasSuffix(Self.inAddrArpa) || name.hasSuffix(Self.ip6Arpa) {
            return isClusterReverseName(name)
                ? .cluster(ClusterQuery(name: name, type: type, namespace: nil, fallsBackToUpstream: false))
                : .upstream
        }
        if let synthetic = config.syntheticSearchDomain, name.hasSuffix(synthetic) {
            let relative = name.dropLast(synthetic.labels.count)
            guard !relative.isRoot, let mapped = clusterName(for: relative, type: type) else { return .nameError }
            return .cluster(ClusterQuery(name: mapped.name, type: type, namespace: mapped.namespace, fallsBackToUpstream: false))
        }
        if isExcluded(name) { return .upstream }
        if let mapped = clusterName(for: name, type: type) {
            return .cluster(ClusterQuery(
                name: mapped.name, type: type, namespace: mapped.namespace, fallsBackToUpstream: !mapped.isClusterForm
            ))
        }
        // The OS appended one of the workstation's search domains to a multi-label cluster name.
        // Single-label names are left alone here: the synthetic search domain, listed first,
        // already brought them, and every intranet host would otherwise cost a cluster lookup.
        for domain in config.workstationSearchDomains.sorted(by: { $0.labels.count > $1.labels.count })
        where name.labels.count >= domain.labels.count + 2 && name.hasSuffix(domain) {
            let relative = name.dropLast(domain.labels.count)
            if let mapped = clusterName(for: relative, type: type) {
                return .cluster(ClusterQuery(name: mapped.name, type: type, namespace: mapped.namespace, fallsBackToUpstream: true))
            }
        }
        if config.includeSuffixes.contains(where: { name.hasSuffix($0) }) {
            return .cluster(ClusterQuery(name: name, type: type, namespace: nil, fallsBackToUpstream: false))
        }
        return .upstream
    }

    /// True when `name` is a reverse name (`4.3.2.1.in-addr.arpa` or 32 nibbles under
    /// `ip6.arpa`) of an address in the service or pod subnets.
    public func isClusterReverseName(_ name: DNSName) -> Bool {
        let subnets = config.serviceSubnets + config.podSubnets
        if let v4 = Self.reverseIPv4(name) { return subnets.contains { $0.contains(v4) } }
        if let v6 = Self.reverseIPv6(name) { return subnets.contains { $0.contains(v6) } }
        return false
    }

    /// The address of an `in-addr.arpa` name with four octet labels.
    public static func reverseIPv4(_ name: DNSName) -> IPv4Address? {
        guard name.labels.count == 6, name.hasSuffix(inAddrArpa) else { return nil }
        var value: UInt32 = 0
        for label in name.labels[0..<4].reversed() {
            guard label.count <= 3, label.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let octet = UInt8(String(decoding: label, as: UTF8.self)) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return IPv4Address(value)
    }

    /// The address of an `ip6.arpa` name with 32 nibble labels.
    public static func reverseIPv6(_ name: DNSName) -> IPv6Address? {
        guard name.labels.count == 34, name.hasSuffix(ip6Arpa) else { return nil }
        var nibbles: [UInt8] = []
        for label in name.labels[0..<32].reversed() {
            guard label.count == 1, let nibble = UInt8(String(decoding: label, as: UTF8.self), radix: 16) else { return nil }
            nibbles.append(nibble)
        }
        let bytes = stride(from: 0, to: 32, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
        return IPv6Address(bytes: bytes)
    }

    private struct Mapped {
        var name: DNSName
        var namespace: String?
        /// The name itself says "cluster" (`.svc`, `.pod`, the cluster domain).
        var isClusterForm: Bool
    }

    /// The cluster name for a name relative to nothing (search suffixes already removed).
    private func clusterName(for name: DNSName, type: DNSRecordType) -> Mapped? {
        let domain = config.clusterDomain
        if name.hasSuffix(domain) {
            let relative = name.dropLast(domain.labels.count)
            return Mapped(name: name, namespace: namespace(ofRelative: relative), isClusterForm: true)
        }
        let count = name.labels.count
        if count >= 2, let last = name.labels.last,
           DNSName.labelsEqual(last, Self.svcLabel) || (count >= 3 && DNSName.labelsEqual(last, Self.podLabel)) {
            guard let full = try? name.appending(domain) else { return nil }
            return Mapped(name: full, namespace: namespace(ofRelative: name), isClusterForm: true)
        }
        // `_port._proto.` prefixes of SRV names ride along in front of the service name.
        let prefixCount = name.labels.prefix(2).prefix { $0.first == UInt8(ascii: "_") }.count
        let core = name.dropFirst(prefixCount)
        let coreCount = core.labels.count
        let namespace: String
        let suffix: DNSName
        if coreCount == 1 {
            namespace = config.connectedNamespace
            suffix = DNSName(unchecked: [Array(namespace.utf8), Self.svcLabel])
        } else if coreCount == 2, knowsNamespace(core.lowercasedLabel(1)) {
            namespace = core.lowercasedLabel(1)
            suffix = DNSName(unchecked: [Self.svcLabel])
        } else {
            return nil
        }
        guard let full = try? name.appending(suffix).appending(domain) else { return nil }
        return Mapped(name: full, namespace: namespace, isClusterForm: false)
    }

    /// The namespace of `x.ns.svc` or `x.ns.pod` (SRV prefixes allowed), lowercased.
    private func namespace(ofRelative relative: DNSName) -> String? {
        let count = relative.labels.count
        guard count >= 2 else { return nil }
        let kind = relative.labels[count - 1]
        guard DNSName.labelsEqual(kind, Self.svcLabel) || DNSName.labelsEqual(kind, Self.podLabel) else { return nil }
        return relative.lowercasedLabel(count - 2)
    }

    private func knowsNamespace(_ namespace: String) -> Bool {
        namespace == config.connectedNamespace.lowercased()
            || config.namespaces.contains { $0.lowercased() == namespace }
    }

    private func isExcluded(_ name: DNSName) -> Bool {
        guard let excluded = config.excludeSuffixes.filter({ name.hasSuffix($0) }).max(by: { $0.labels.count < $1.labels.count }) else {
            return false
        }
        return !config.includeSuffixes.contains { name.hasSuffix($0) && $0.labels.count > excluded.labels.count }
    }

    private func localhostRecords(name: DNSName, type: DNSRecordType) -> [ResourceRecord] {
        switch type {
        case .a: return [ResourceRecord(name: name, ttl: 60, data: .a(IPv4Address(127, 0, 0, 1)))]
        case .aaaa: return [ResourceRecord(name: name, ttl: 60, data: .aaaa(IPv6Address(high: 0, low: 1)))]
        default: return []
        }
    }
}
