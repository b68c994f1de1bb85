import ArgumentParser
import GRPCCore
import RPC

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
        let snapshot: Telepresence_Connector_WorkloadInfoSnapshot
        do {
            guard let result = try await Daemon.ifRunning({ connector in
                try await connector.list(request: ClientRequest(message: .with {
                    $0.namespace = namespace ?? ""
                    $0.filter = .everything
                }))
            }) else { throw CLIError("not connected; run 'telepresence connect' first") }
            snapshot = result
        } catch let error as RPCError {
            throw CLIError(error.message)
        }
        var rows = snapshot.workloads.map { workload in
            Row(
                name: workload.name, namespace: workload.namespace, workload_resource_type: workload.kind.lowercased(),
                state: Self.state(workload), agent_installed: workload.agentState != .noAgentUnspecified,
                ready_replicas: Int(workload.readyReplicas), replicas: Int(workload.replicas))
        }
        if agents { rows = rows.filter(\.agent_installed) }
        if intercepts { rows = rows.filter { $0.state == "engaged" } }
        if output.output == .default && rows.isEmpty {
            print("No Workloads (Deployments, StatefulSets, ReplicaSets) in namespace \(snapshot.namespace)")
            return
        }
        try output.print(rows) {
            TextTable(header: nil, rows: rows.map { ["\($0.workload_resource_type) \($0.name)", ":", Self.text($0)] })
        }
    }

    static func state(_ workload: Telepresence_Manager_WorkloadInfo) -> String {
        switch workload.agentState {
        case .engaged: "engaged"
        case .installed: "ready"
        default: workload.state == .failure ? "failing" : "ready"
        }
    }

    static func text(_ row: Row) -> String {
        if row.state == "engaged" { return "engaged" }
        if row.state == "failing" { return "not engageable: the workload is failing (\(row.ready_replicas)/\(row.replicas) ready)" }
        return row.agent_installed ? "ready to engage (traffic-agent already installed)" : "ready to engage (traffic-agent not yet installed)"
    }
}
