import ArgumentParser
import ClientSupport

/// `telepresence uninstall WORKLOAD... | --all-agents`: removes the traffic-agent from
/// workloads; their pods roll back to the template they had before.
struct Uninstall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove the traffic-agent from workloads (their pods roll back to their template).")

    @Flag(name: .shortAndLong, help: "Remove every traffic-agent in the namespace.")
    var allAgents = false

    @Option(name: .shortAndLong, help: "The workloads' namespace (default: the connected one).")
    var namespace: String?

    @OptionGroup var kube: KubeFlags

    @Argument(help: "The workloads whose agents to remove.")
    var workloads: [String] = []

    func validate() throws {
        if allAgents && !workloads.isEmpty {
            throw CLIError("give either workloads or --all-agents, not both")
        }
        if !allAgents && workloads.isEmpty {
            throw CLIError("name the workloads whose agents to remove, or use --all-agents")
        }
    }

    func run() async throws {
        _ = try await Connect.ensureConnected(kube: kube)
        let (workloads, all, namespace) = (self.workloads, allAgents, self.namespace)
        let outcome = try await Daemon.started { try await $0.uninstall(workloads: workloads, allAgents: all, namespace: namespace) }
        if !outcome.errorText.isEmpty { throw CLIError(outcome.errorText) }
        for name in outcome.removed { print("Removed the traffic-agent from \(name)") }
        if outcome.removed.isEmpty { print("No traffic-agent was installed\(all ? "" : " in \(workloads.joined(separator: ", "))")") }
    }
}
