import ArgumentParser
import KubeClient

/// `telepresence list-contexts`: the kubeconfig's contexts, the current one marked.
struct ListContexts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-contexts", abstract: "Show the contexts of the kubeconfig.")

    @Option(help: "Path to the kubeconfig file to use (instead of KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @OptionGroup var output: OutputFlags

    func run() throws {
        let config = try KubeconfigLoader.load(explicitFile: kubeconfig, environment: .current)
        let rows = config.contexts.map { entry in
            ContextRow(
                name: entry.name, current: entry.name == config.currentContext,
                cluster: entry.value.cluster ?? "", user: entry.value.user ?? "",
                namespace: entry.value.namespace ?? "")
        }
        try output.print(rows) {
            TextTable(
                header: ["CURRENT", "NAME", "CLUSTER", "USER", "NAMESPACE"],
                rows: rows.map { [$0.current ? "*" : "", $0.name, $0.cluster, $0.user, $0.namespace] })
        }
    }
}

struct ContextRow: Encodable {
    let name: String
    let current: Bool
    let cluster: String
    let user: String
    let namespace: String
}
