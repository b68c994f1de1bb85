import ArgumentParser
import ClientSupport
import RPC

/// `telepresence ingest WORKLOAD`: the container's environment (and mounts) come to this
/// machine; no traffic moves, and nothing in the cluster changes but the agent's presence.
struct IngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Ingest a workload's container: its environment comes to this machine, no traffic moves (run a handler with -- CMD).")

    @Argument(help: "The workload; also the engagement's name.")
    var workload: String

    @Option(name: .shortAndLong, help: "The container whose environment and mounts are used (default: the first).")
    var container: String?

    @Option(name: .shortAndLong, help: "The workload's namespace (default: the connected one).")
    var namespace: String?

    @OptionGroup var kube: KubeFlags
    @OptionGroup var handler: HandlerOptions

    func validate() throws {
        guard PortTargetOptions.isName(workload) else {
            throw CLIError("\(workload) is not a workload's name; use lower-case letters, digits and '-'")
        }
    }

    func request() -> InterceptRequest {
        InterceptRequest(
            name: workload, kind: .ingest, workload: workload, namespace: namespace ?? "", containerName: container ?? "",
            targetPort: 0)
    }

    func run() async throws {
        try await handler.engage(request(), kube: kube)
    }
}
