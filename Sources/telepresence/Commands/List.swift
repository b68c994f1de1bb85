import ArgumentParser
import ClientSupport

/// `telepresence list`: the workloads of a namespace that can be engaged, their agents and
/// their engagements; `-i -r -g -t -a` keep only those with an intercept, a replace, an ingest,
/// a wiretap or an agent (any of the flags given).
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the workloads of a namespace and whether they can be engaged.")

    @Option(name: .shortAndLong, help: "The namespace (default: the connected one).")
    var namespace: String?

    @Flag(name: .shortAndLong, help: "Only workloads with a traffic-agent installed.")
    var agents = false

    @Flag(name: .shortAndLong, help: "Only workloads that are intercepted.")
    var intercepts = false

    @Flag(name: .shortAndLong, help: "Only workloads with a replaced container.")
    var replacements = false

    @Flag(name: [.customShort("g"), .long], help: "Only workloads with an ingested container.")
    var ingests = false

    @Flag(name: [.customShort("t"), .long], help: "Only workloads that are wiretapped.")
    var wiretaps = false

    @Flag(help: "With --output json|yaml: every field of each engagement.")
    var detailedOutput = false

    @OptionGroup var output: OutputFlags

    struct Row: Encodable {
        var name: String
        var namespace: String
        var workload_resource_type: String
        var state: String
        var agent_installed: Bool
        var ready_replicas: Int
        var replicas: Int
        var not_engageable_reason: String?
        var intercepts: [InterceptView]?
        var engagements: [Engagement]?
    }

    /// One engagement of a workload in `--output json|yaml`.
    struct Engagement: Encodable {
        var name: String
        var kind: String
        var client: String
        /// What it engages, in words.
        var filter: String
        var ports: [String]
        var namespace: String
        var state: String
        var message: String

        init(_ intercept: Intercept) {
            name = intercept.name
            kind = intercept.kind.rawValue
            client = intercept.client
            filter = InterceptView.summary(intercept)
            switch intercept.kind {
            case .intercept, .wiretap: ports = ["\(intercept.containerPort)/\(intercept.transport.isEmpty ? "TCP" : intercept.transport.uppercased())"]
            case .replace: ports = intercept.replacedPorts.map(\.text)
            case .ingest: ports = []
            }
            namespace = intercept.namespace
            state = intercept.disposition
            message = intercept.message
        }
    }

    /// The flags as Telepresence's bitmap.
    var filter: ListFilter {
        var filter: ListFilter = []
        if intercepts { filter.insert(.intercepts) }
        if replacements { filter.insert(.replacements) }
        if ingests { filter.insert(.ingests) }
        if wiretaps { filter.insert(.wiretaps) }
        if agents { filter.insert(.installedAgents) }
        return filter
    }

    func run() async throws {
        let namespace = self.namespace, filter = self.filter, detailed = detailedOutput
        guard let listing = try await Daemon.ifRunning({ try await $0.list(namespace: namespace, filter: filter) }) else {
            throw CLIError("not connected; run 'telepresence connect' first")
        }
        // The daemon filtered already; a daemon that does not know the bits is filtered here.
        let rows = listing.workloads.filter(filter.selects).map { workload in
            Row(
                name: workload.name, namespace: workload.namespace, workload_resource_type: workload.kind.lowercased(),
                state: Self.state(workload), agent_installed: workload.agent != .none,
                ready_replicas: workload.readyReplicas, replicas: workload.replicas,
                not_engageable_reason: workload.notEngageableReason.isEmpty ? nil : workload.notEngageableReason,
                intercepts: workload.intercepts.isEmpty ? nil : workload.intercepts.map { InterceptView($0, detailed: detailed) },
                engagements: workload.intercepts.isEmpty ? nil : workload.intercepts.map(Engagement.init))
        }
        if output.output == .default && rows.isEmpty {
            print("No Workloads (Deployments, StatefulSets, ReplicaSets) in namespace \(listing.namespace)")
            return
        }
        if output.output == .default {
            print(Self.text(rows), terminator: "")
        } else {
            try output.print(rows) { TextTable(header: nil, rows: []) }
        }
    }

    /// "intercepted", "not engageable", "failing" or "ready".
    static func state(_ workload: Workload) -> String {
        if workload.agent == .engaged || !workload.intercepts.isEmpty { return "intercepted" }
        if !workload.notEngageableReason.isEmpty { return "not engageable" }
        return workload.health == .failing ? "failing" : "ready"
    }

    /// Telepresence's lines: "deployment echo: ready to engage (traffic-agent not yet
    /// installed)", and under an intercepted workload its intercepts' details.
    static func text(_ rows: [Row]) -> String {
        let width = rows.map { "\($0.workload_resource_type) \($0.name)".count }.max() ?? 0
        return rows.map { row in
            let label = "\(row.workload_resource_type) \(row.name)".padding(toLength: width, withPad: " ", startingAt: 0)
            var text = "\(label): \(Self.stateText(row))\n"
            for intercept in row.intercepts ?? [] {
                var lines = intercept.lines
                if let client = intercept.client { lines.insert(("Client", client), at: 1) }
                text += InterceptView.render(lines, indent: "    ")
            }
            return text
        }.joined()
    }

    static func stateText(_ row: Row) -> String {
        switch row.state {
        case "intercepted":
            // "intercepted", or the kinds of its engagements ("replaced, wiretapped").
            let words: [String: String] = ["intercept": "intercepted", "wiretap": "wiretapped", "replace": "replaced", "ingest": "ingested"]
            let kinds = (row.engagements ?? []).map(\.kind)
            let said = ["intercept", "replace", "wiretap", "ingest"].filter(kinds.contains).compactMap { words[$0] }
            return said.isEmpty ? "intercepted" : said.joined(separator: ", ")
        case "not engageable": return "not engageable: \(row.not_engageable_reason ?? "")"
        case "failing": return "not engageable: the workload is failing (\(row.ready_replicas)/\(row.replicas) ready)"
        default:
            return row.agent_installed ? "ready to engage (traffic-agent already installed)" : "ready to engage (traffic-agent not yet installed)"
        }
    }
}
