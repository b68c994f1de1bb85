import KubeClient
import SandboxAPIServer

/// kube-proxy's job as one nftables script (table `ip sandbox` in the node namespace): each
/// ClusterIP port DNATs to one of its Ready endpoints at random (`numgen random mod N map`),
/// a pod reaching itself through its service is masqueraded (hairpin), ports without endpoints
/// reject at once, and nothing from a workstation's link reaches the pod or service subnets.
/// Pure: built from the store's Services and EndpointSlices (as kube-proxy reads them), applied
/// by ``ServiceProxy``.
struct ServiceRules: Equatable, Sendable {
    /// One service port and where it leads.
    struct PortRule: Equatable, Sendable {
        var clusterIP: String
        /// "tcp" or "udp".
        var proto: String
        var port: Int
        var endpoints: [Endpoint]
    }

    struct Endpoint: Equatable, Sendable {
        var ip: String
        var port: Int
    }

    var rules: [PortRule]

    /// The rules for these Services and their EndpointSlices (which carry the named target
    /// ports resolved per pod). Only ready endpoints get connections (a terminating pod's is not
    /// ready). Headless and ExternalName services get none; neither does the cluster DNS
    /// address, which the node serves itself.
    init(services: [StoredObject], endpointSlices: [StoredObject]) {
        var slicesByService: [String: [StoredObject]] = [:]
        for slice in endpointSlices {
            guard let service = slice.labels["kubernetes.io/service-name"] else { continue }
            slicesByService["\(slice.namespace)/\(service)", default: []].append(slice)
        }
        var rules: [PortRule] = []
        for service in services {
            let spec = service.value["spec"]
            guard let clusterIP = spec?["clusterIP"]?.stringValue, !clusterIP.isEmpty, clusterIP != "None",
                  clusterIP != ClusterAddresses.clusterDNS, spec?["type"]?.stringValue != "ExternalName"
            else { continue }
            let slices = slicesByService["\(service.namespace)/\(service.name)"] ?? []
            for port in spec?["ports"]?.arrayValue ?? [] {
                let proto = (port["protocol"]?.stringValue ?? "TCP").lowercased()
                guard proto == "tcp" || proto == "udp", let number = port["port"]?.intValue else { continue }
                let name = port["name"]?.stringValue ?? ""
                var targets: [Endpoint] = []
                for slice in slices.sorted(by: { $0.name < $1.name }) {
                    // The slice's port with the same name (and protocol) carries the resolved target port.
                    guard let match = (slice.value["ports"]?.arrayValue ?? []).first(where: {
                        ($0["name"]?.stringValue ?? "") == name && ($0["protocol"]?.stringValue ?? "TCP").lowercased() == proto
                    }), let target = match["port"]?.intValue else { continue }
                    for endpoint in slice.value["endpoints"]?.arrayValue ?? [] {
                        // An unknown readiness counts as ready, as kube-proxy reads it.
                        guard endpoint["conditions"]?["ready"]?.boolValue ?? true else { continue }
                        for ip in (endpoint["addresses"]?.arrayValue ?? []).compactMap(\.stringValue) {
                            targets.append(Endpoint(ip: ip, port: target))
                        }
                    }
                }
                rules.append(PortRule(clusterIP: clusterIP, proto: proto, port: number, endpoints: targets))
            }
        }
        self.rules = rules.sorted { ($0.clusterIP, $0.proto, $0.port) < ($1.clusterIP, $1.proto, $1.port) }
    }

    /// The nftables script that replaces the table atomically (declare, delete, define: one
    /// transaction, so traffic never sees a half-written table).
    var script: String {
        let table = ClusterNames.nftTable
        let isolated = "{ \(ClusterAddresses.podSubnet), \(ClusterAddresses.serviceSubnet) }"
        let missing = rules.filter(\.endpoints.isEmpty).map { "\($0.clusterIP) . \($0.proto) . \($0.port)" }
        let hairpins = Set(rules.flatMap(\.endpoints).map(\.ip).filter { isPodAddress($0) }).sorted().map { "\($0) . \($0)" }
        var lines = [
            "table ip \(table)",
            "delete table ip \(table)",
            "table ip \(table) {",
            "  set no-endpoints { type ipv4_addr . inet_proto . inet_service;\(elements(missing)) }",
            "  set hairpin { type ipv4_addr . ipv4_addr;\(elements(hairpins)) }",
            // Before DNAT (-100): the workstation's packets are judged by where they were sent, and
            // a port without endpoints is refused before routing (the node has no route to the
            // service subnet, which would drop the packet silently instead).
            "  chain filter-prerouting { type filter hook prerouting priority -150; policy accept;",
            // `wslink*`: the first workstation's link and every added one's (`wslink1`, ...).
            "    iifname \"\(ClusterTopology.workstationLink)*\" ip daddr \(isolated) drop",
            "    ip daddr . meta l4proto . th dport @no-endpoints reject",
            "  }",
            "  chain prerouting { type nat hook prerouting priority -100; policy accept; jump services; }",
            "  chain output { type nat hook output priority -100; policy accept; jump services; }",
            "  chain postrouting { type nat hook postrouting priority 100; policy accept; ct status dnat ip saddr . ip daddr @hairpin masquerade; }",
        ]
        lines.append("  chain filter-output { type filter hook output priority 0; policy accept; ip daddr . meta l4proto . th dport @no-endpoints reject; }")
        lines.append("  chain services {")
        for rule in rules where !rule.endpoints.isEmpty {
            let map = rule.endpoints.enumerated().map { "\($0.offset) : \($0.element.ip) . \($0.element.port)" }.joined(separator: ", ")
            lines.append("    ip daddr \(rule.clusterIP) \(rule.proto) dport \(rule.port) dnat ip to numgen random mod \(rule.endpoints.count) map { \(map) }")
        }
        lines.append("  }")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    private func elements(_ items: [String]) -> String {
        items.isEmpty ? "" : " elements = { \(items.joined(separator: ", ")) };"
    }

    private func isPodAddress(_ ip: String) -> Bool { ip.hasPrefix("10.244.") }
}
