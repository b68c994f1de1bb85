/// The facts about the cluster that clients need to route and resolve, as the manager found them.
public struct ClusterFacts: Sendable, Equatable {
    public var serviceSubnet: IPSubnet?
    public var podSubnets: [IPSubnet]
    /// How the pod subnets were found: `nodes`, `coverage` or `environment`.
    public var podCIDRStrategy: String
    /// Without a trailing dot, e.g. `cluster.local`.
    public var clusterDomain: String
    public var dnsIP: String?
    public var managerPodIP: String?
    public var managerPort: Int
    public var managedNamespaces: [String]

    public init(
        serviceSubnet: IPSubnet? = nil, podSubnets: [IPSubnet] = [], podCIDRStrategy: String = "",
        clusterDomain: String = "cluster.local", dnsIP: String? = nil, managerPodIP: String? = nil,
        managerPort: Int = 8081, managedNamespaces: [String] = []
    ) {
        self.serviceSubnet = serviceSubnet
        self.podSubnets = podSubnets
        self.podCIDRStrategy = podCIDRStrategy
        self.clusterDomain = clusterDomain
        self.dnsIP = dnsIP
        self.managerPodIP = managerPodIP
        self.managerPort = managerPort
        self.managedNamespaces = managedNamespaces
    }
}

/// Reads the cluster domain and DNS server from a pod's resolv.conf: kubelet writes
/// `search <ns>.svc.<domain> svc.<domain> <domain>` and `nameserver <cluster DNS IP>`.
public enum ResolvConf {
    public static func clusterDomain(from text: String) -> String? {
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.first == "search" else { continue }
            for entry in fields.dropFirst() where entry.hasPrefix("svc.") {
                let domain = entry.dropFirst("svc.".count).trimmingCharacters(in: CharacterSet(charactersIn: "."))
                if !domain.isEmpty { return domain }
            }
        }
        return nil
    }

    public static func nameserver(from text: String) -> String? {
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, fields[0] == "nameserver" { return String(fields[1]) }
        }
        return nil
    }
}

import Foundation
