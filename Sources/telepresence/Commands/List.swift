import ArgumentParser
import ClientSupport

/// `telepresence list`: the workloads of a namespace that can be engaged, and their agents.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the workloads of a namespace and whether they can be engaged.")

    @Option(name: .shortAndLong, help: "The namespace (default: the connected one).")
    var namespace: String?

    @Flag(name: .shortAndLong, help: "Only workloads with a traffic-agent installed.")
    var agents = false

    @Flag(name: .shortAndLong, help: "Only workloads that are engaged (intercepted).")
    var intercepts = false

    @OptionGroup var output: OutputFlags

    struct Row: Encodable {
        var name: String
        var namespace: String
        var workload_resource_type: String
        var state: String
        var agent_installed: Bool
        var ready_replicas: Int
        var replicas: Int
    }

    func run() async throws {
        let namespace = self.namespace
        guard let listing = try await Daemon.ifRunning({ try await $0.list(namespace: namespace) }) else {
            throw CLIError("not connected; run 'telepresence connect' first")
        }
        var rows = listing.workloads.map { workload in
            Row(
                name: workload.name, namespace: workload.namespace, workload_resource_type: workload.kind.lowercased(),
                state: Self.state(workload), agent_installed: workload.agent != .none,
                ready_replicas: workload.readyReplicas, replicas: workload.replicas)
        }
        if agents { rows = rows.filter(\.agent_installed) }
        if intercepts { rows = rows.filter { $0.state == "engaged" } }
        if output.output == .default && rows.isEmpty {
            print("No Workloads (Deployments, StatefulSets, ReplicaSets) in namespace \(listing.namespace)")
            return
        }
        try output.print(rows) {
            TextTable(header: nil, rows: rows.map { ["\($0.workload_resource_type) \($0.name)", ":", Self.text($0)] })
        }
    }

    static func state(_ workload: Workload) -> String {
        switch workload.agent {
        case .engaged: "engaged"
        case .installed: "ready"
        case .none: workload.health == .failing ? "failing" : "ready"
        }
    }

    static func text(_ row: Row) -> String {
        if row.state == "engaged" { return "engaged" }
        if row.state == "failing" { return "not engageable: the workload is failing (\(row.ready_replicas)/\(row.replicas) ready)" }
        return row.agent_installed ? "ready to engage (traffic-agent already installed)" : "ready to engage (traffic-agent not yet installed)"
    }
}
