import CLinuxSupport
import Foundation
import SandboxAPIServer

/// A further workstation on a running cluster, as a second (third, ...) developer's machine:
/// its own network namespace `sbx-<cluster>-ws-<name>`, its own resolv.conf (the outside-world
/// resolver, as the first workstation's) and /etc/hosts (its hostname, which the UTS namespace
/// `sandbox-cluster run --workstation` makes gives it), and a veth to the node that reaches only
/// the API server's 192.0.2.1, like the first workstation.
///
/// Its link is a /30 of its own in 198.51.100.0/24 (TEST-NET-2): workstation `index` has
/// 198.51.100.(4·index+2) and the node 198.51.100.(4·index+1), so no two links share a subnet and
/// the first workstation's 192.0.2.0/24 stays as it is. The workstation's one route is a host
/// route to 192.0.2.1 through the node; the node's `wslink*` rule drops anything it sends toward
/// the pod and service subnets (``ServiceRules``), so only the API server is in reach until
/// Telepresence connects. Workstations cannot reach each other (neither has a route to the
/// other's link). The link is never delayed, whatever `--link-delay-ms` the cluster has.
///
/// Everything carries the cluster's prefix, so ``ClusterTopology/removeLeftovers(cluster:)``
/// (what `down` runs) removes added workstations with the rest.
public struct AddedWorkstation: Sendable, Equatable {
    public let names: ClusterNames
    /// The name given at `add` (letters, digits, '-'); also the workstation's hostname.
    public let name: String
    /// Which /30 of 198.51.100.0/24 its link uses (1...63).
    public let index: Int

    public init(names: ClusterNames, name: String, index: Int) {
        self.names = names
        self.name = name
        self.index = index
    }

    /// The most workstations a cluster can have besides its first (one /30 each, .0 unused).
    public static let capacity = 63
    /// The first workstation's name, which `add` refuses (it exists with every cluster).
    public static let reservedName = "ws"

    /// Its network namespace.
    public var namespace: String { names.addedWorkstationNamespace(name) }
    /// Where `ip netns exec` finds its resolv.conf and hosts.
    public var etc: String { "/etc/netns/\(namespace)" }
    /// The node-side end of its link (the node's `wslink*` drop rule matches it).
    public var nodeLink: String { "\(ClusterTopology.workstationLink)\(index)" }
    /// Its address on its only link.
    public var address: String { "198.51.100.\(4 * index + 2)" }
    /// The node's address on that link, its gateway to the API server.
    public var gateway: String { "198.51.100.\(4 * index + 1)" }

    /// Whether `name` can name an added workstation (it goes into namespace and host names).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 32 && name != reservedName && name.first!.isLetter
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
    }

    /// Makes workstation `name` on the running cluster `cluster` (its node namespace must exist).
    public static func add(cluster: String, name: String) throws(AddedWorkstationError) -> AddedWorkstation {
        guard geteuid() == 0 else { throw .network(.notRoot) }
        let names = ClusterNames(cluster: cluster)
        guard ClusterNamespace.exists(names.nodeNamespace) else { throw .network(.namespaceMissing(names.nodeNamespace)) }
        guard isValidName(name) else { throw .invalidName(name) }
        let existing = list(cluster: cluster)
        if existing.contains(where: { $0.name == name }) { throw .exists(name, cluster: cluster) }
        let taken = Set(existing.map(\.index))
        guard let index = (1...capacity).first(where: { !taken.contains($0) }) else { throw .full(cluster: cluster) }
        let workstation = AddedWorkstation(names: names, name: name, index: index)
        do {
            try workstation.create()
        } catch {
            workstation.remove()
            throw error
        }
        return workstation
    }

    private func create() throws(AddedWorkstationError) {
        do { try makeLink() } catch { throw .network(error) }
        do {
            try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
            try ClusterTopology.workstationResolvConf.write(toFile: etc + "/resolv.conf", atomically: true, encoding: .utf8)
            // Its hostname resolves locally, as on any machine (the client's name is user@host).
            try "127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.1.1 \(name)\n"
                .write(toFile: etc + "/hosts", atomically: true, encoding: .utf8)
        } catch {
            throw .files(etc, reason: error.localizedDescription)
        }
    }

    private func makeLink() throws(ClusterNetworkError) {
        let ws = ClusterTopology.workstationInterface
        try SystemCommand.run(["ip", "-batch", "-"], input: """
            netns add \(namespace)
            link add \(nodeLink) netns \(names.nodeNamespace) type veth peer name \(ws) netns \(namespace)

            """)
        try SystemCommand.run(["ip", "-n", names.nodeNamespace, "-batch", "-"], input: """
            addr add \(gateway)/30 dev \(nodeLink)
            link set \(nodeLink) up

            """)
        try SystemCommand.run(["ip", "-n", namespace, "-batch", "-"], input: """
            link set lo up
            addr add \(address)/30 dev \(ws)
            link set \(ws) up
            route add \(ClusterAddresses.apiServer)/32 via \(gateway) dev \(ws)

            """)
    }

    /// Kills what runs in it and removes its namespace (and with it both ends of its link) and
    /// its /etc/netns folder. Safe to call when it is gone.
    public func remove() {
        let pids = (try? SystemCommand.run(["ip", "netns", "pids", namespace], allowFailure: true)) ?? ""
        for pid in pids.split(whereSeparator: \.isWhitespace).compactMap({ Int32($0) }) where pid != getpid() {
            kill(pid, SIGKILL)
        }
        _ = try? SystemCommand.run(["ip", "-force", "netns", "del", namespace], allowFailure: true)
        try? FileManager.default.removeItem(atPath: etc)
    }

    /// Gives the calling thread, and what it then execs, a UTS namespace of its own whose
    /// hostname is this workstation's name: a second developer's client names itself
    /// `user@host`, which must differ from the first's. Call it from a single-threaded process
    /// (`sandbox-cluster run` before it execs), since it also makes a mount namespace.
    public func takeHostname() throws(ClusterNetworkError) {
        guard lx_unshare_mount_uts() == 0 else { throw .system("make a UTS namespace for workstation \(name)", errno: errno) }
        guard name.withCString({ sethostname($0, strlen($0)) }) == 0 else { throw .system("set the hostname \(name)", errno: errno) }
    }

    /// The added workstations of `cluster` that exist now, by index.
    public static func list(cluster: String) -> [AddedWorkstation] {
        let names = ClusterNames(cluster: cluster)
        let prefix = names.addedWorkstationNamespace("")
        return ClusterTopology.namespaces(cluster: cluster).filter { $0.hasPrefix(prefix) }.compactMap { namespace in
            let name = String(namespace.dropFirst(prefix.count))
            // Its index is in its address (198.51.100.4i+2/30 on eth0).
            let text = (try? SystemCommand.run(
                ["ip", "-n", namespace, "-o", "-4", "addr", "show", "dev", ClusterTopology.workstationInterface], allowFailure: true)) ?? ""
            guard let match = text.firstMatch(of: /inet 198\.51\.100\.(\d+)\//), let host = Int(match.1), host % 4 == 2 else {
                return nil
            }
            return AddedWorkstation(names: names, name: name, index: host / 4)
        }.sorted { $0.index < $1.index }
    }

    /// Finds workstation `name` of `cluster`.
    public static func find(cluster: String, name: String) -> AddedWorkstation? {
        list(cluster: cluster).first { $0.name == name }
    }
}

/// Why a workstation could not be added, with what to do.
public enum AddedWorkstationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(String)
    case exists(String, cluster: String)
    case full(cluster: String)
    case files(String, reason: String)
    case network(ClusterNetworkError)

    public var description: String {
        switch self {
        case .invalidName(let name):
            "'\(name)' cannot name a workstation; use a letter, then letters, digits and '-' (at most 32), other than '\(AddedWorkstation.reservedName)'"
        case .exists(let name, let cluster):
            "workstation '\(name)' already exists on cluster '\(cluster)'; remove it with 'sandbox-cluster workstation remove --name \(cluster) \(name)' or pick another name"
        case .full(let cluster):
            "cluster '\(cluster)' has \(AddedWorkstation.capacity) added workstations already; remove one with 'sandbox-cluster workstation remove'"
        case .files(let path, let reason):
            "cannot write the workstation's resolv.conf and hosts in \(path): \(reason); check that /etc/netns is writable by root"
        case .network(let error):
            error.description
        }
    }
}

extension ClusterNames {
    /// The network namespace of the added workstation `name` (see ``AddedWorkstation``).
    public func addedWorkstationNamespace(_ name: String) -> String { "\(workstationNamespace)-\(name)" }
}
