import Foundation
import SandboxAPIServer

/// The kernel side of one sandbox cluster: the node namespace (bridge `cbr0` 10.244.0.1/16 that
/// pods attach to, the cluster DNS address 10.96.0.10, the API server's cluster-side address
/// 192.0.2.1, IP forwarding) and the workstation namespace (192.0.2.2/24 and nothing else), and
/// the link between them: a veth pair, or with a link delay a user-space forwarder between two
/// TUN devices (``DelayedLink``). Nothing is added to the host's own namespace and nothing routes
/// out of the machine.
///
/// Everything carries the cluster's name, so ``removeLeftovers(cluster:)`` finds what a killed
/// run left behind by name alone.
public final class ClusterTopology: Sendable {
    public let names: ClusterNames
    /// The delay each way between workstation and node; nil for a plain veth pair.
    public let linkDelay: Duration?
    private let link: DelayedLink?

    /// The node-side interface of the workstation link (the forward rules name it).
    public static let workstationLink = "wslink"
    /// The workstation's only interface.
    public static let workstationInterface = "eth0"

    private init(names: ClusterNames, linkDelay: Duration?, link: DelayedLink?) {
        self.names = names
        self.linkDelay = linkDelay
        self.link = link
    }

    /// Whether this process may create network namespaces (root, iproute2 present).
    public static var isSupported: Bool {
        geteuid() == 0 && ["/usr/sbin/ip", "/sbin/ip"].contains { FileManager.default.isExecutableFile(atPath: $0) }
            && ["/usr/sbin/nft", "/sbin/nft"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Creates the namespaces and the link, after removing whatever a previous cluster of the
    /// same name left. `linkDelay` (nil: a veth pair) puts a user-space forwarder on the link.
    public static func create(cluster: String, linkDelay: Duration? = nil) throws -> ClusterTopology {
        guard geteuid() == 0 else { throw ClusterNetworkError.notRoot }
        let names = ClusterNames(cluster: cluster)
        removeLeftovers(cluster: cluster)
        let node = names.nodeNamespace
        let ws = names.workstationNamespace
        do {
            var host = "netns add \(node)\nnetns add \(ws)\n"
            if linkDelay == nil {
                host += "link add \(workstationLink) netns \(node) type veth peer name \(workstationInterface) netns \(ws)\n"
            }
            try SystemCommand.run(["ip", "-batch", "-"], input: host)
            // The bridge gets a fixed address: one left to the kernel follows the lowest address
            // of its ports and changes as pods come and go, and every pod's cached neighbour
            // entry for its gateway then points nowhere until it is probed again (a lost DNS
            // query, a 5 s stall, in the middle of a rolling update).
            var nodeCommands = """
                link set lo up
                link add \(ClusterNames.bridge) address \(Self.bridgeAddress) type bridge
                addr add \(ClusterAddresses.nodeBridge)/16 dev \(ClusterNames.bridge)
                link set \(ClusterNames.bridge) up
                addr add \(ClusterAddresses.clusterDNS)/32 dev lo

                """
            var wsCommands = "link set lo up\n"
            if linkDelay == nil {
                nodeCommands += "addr add \(ClusterAddresses.apiServer)/24 dev \(workstationLink)\nlink set \(workstationLink) up\n"
                wsCommands += "addr add \(ClusterAddresses.workstation)/24 dev \(workstationInterface)\nlink set \(workstationInterface) up\n"
            }
            try SystemCommand.run(["ip", "-n", node, "-batch", "-"], input: nodeCommands)
            try SystemCommand.run(["ip", "-n", ws, "-batch", "-"], input: wsCommands)
            try ClusterNamespace.runBlocking(in: node) {
                // Pods reach services and each other through the node; bridged traffic must
                // pass netfilter so replies of DNATed connections are translated back.
                try writeSysctl("net/ipv4/ip_forward", "1")
                try? writeSysctl("net/bridge/bridge-nf-call-iptables", "1")
            }
            if linkDelay != nil {
                // A delayed link needs windows of delay x rate (20 ms x 1 GB/s = 20 MB); the
                // default 6 MB maximum would cap a connection near 150 MB/s at 10 ms.
                for namespace in [node, ws] {
                    try ClusterNamespace.runBlocking(in: namespace) {
                        try writeSysctl("net/ipv4/tcp_rmem", "4096 131072 67108864")
                        try writeSysctl("net/ipv4/tcp_wmem", "4096 65536 67108864")
                    }
                }
            }
            let link = try linkDelay.map { try DelayedLink(names: names, delay: $0) }
            try FileManager.default.createDirectory(atPath: names.workstationEtc, withIntermediateDirectories: true)
            try workstationResolvConf.write(toFile: names.workstationEtc + "/resolv.conf", atomically: true, encoding: .utf8)
            return ClusterTopology(names: names, linkDelay: linkDelay, link: link)
        } catch {
            removeLeftovers(cluster: cluster)
            throw error
        }
    }

    /// Every workstation's resolv.conf: the outside-world resolver on the API server's address.
    static let workstationResolvConf = "# the sandbox's outside world: a few fixed names, NXDOMAIN for the rest\nnameserver \(ClusterAddresses.apiServer)\n"

    /// The bridge's MAC address (locally administered; the node namespace is its own L2 domain,
    /// so every cluster can use the same one).
    static let bridgeAddress = "02:00:0a:f4:00:01"

    /// The `ip -n <node> -batch` lines that attach a pod's node-side veth to the bridge. Hairpin
    /// mode is required: a pod reaching itself through its service is DNATed back to its own
    /// bridge port, which a bridge refuses without it (kubelet's `hairpin-veth`).
    public static func attachPodVeth(_ veth: String) -> String {
        """
        link set \(veth) master \(ClusterNames.bridge)
        link set \(veth) type bridge_slave hairpin on
        link set \(veth) up

        """
    }

    /// Stops the link forwarder and removes every namespace and file of this cluster.
    public func destroy() {
        link?.stop()
        Self.removeLeftovers(cluster: names.cluster)
    }

    /// The names of this cluster's network namespaces that exist now.
    public static func namespaces(cluster: String) -> [String] {
        let prefix = ClusterNames(cluster: cluster).prefix
        let all = (try? FileManager.default.contentsOfDirectory(atPath: ClusterNamespace.directory)) ?? []
        return all.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// Kills every process left in this cluster's namespaces, deletes the namespaces (and with
    /// them their links, addresses, nftables tables) and the /etc/netns directories. Returns
    /// what it removed, for `down` to report. Safe to call when nothing is left.
    @discardableResult
    public static func removeLeftovers(cluster: String) -> [String] {
        guard geteuid() == 0 else { return [] }
        let names = ClusterNames(cluster: cluster)
        var removed: [String] = []
        let namespaces = namespaces(cluster: cluster)
        for namespace in namespaces {
            let pids = (try? SystemCommand.run(["ip", "netns", "pids", namespace], allowFailure: true)) ?? ""
            for pid in pids.split(whereSeparator: \.isWhitespace).compactMap({ Int32($0) }) where pid != getpid() {
                kill(pid, SIGKILL)
                removed.append("process \(pid)")
            }
        }
        if !namespaces.isEmpty {
            _ = try? SystemCommand.run(
                ["ip", "-force", "-batch", "-"], input: namespaces.map { "netns del \($0)\n" }.joined(), allowFailure: true)
            removed += namespaces.map { "network namespace \($0)" }
        }
        let etc = (try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? []
        for entry in etc where entry.hasPrefix(names.prefix) {
            try? FileManager.default.removeItem(atPath: "/etc/netns/\(entry)")
            removed.append("/etc/netns/\(entry)")
        }
        return removed
    }
}

/// Writes a sysctl of the calling thread's network namespace (/proc/sys/net resolves per thread).
func writeSysctl(_ key: String, _ value: String) throws(ClusterNetworkError) {
    let fd = open("/proc/sys/\(key)", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .system("open /proc/sys/\(key)", errno: errno) }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    guard write(fd, bytes, bytes.count) == bytes.count else { throw .system("write /proc/sys/\(key)", errno: errno) }
}
