import ArgumentParser
import KubeClient

/// `telepresence list-namespaces`: the namespaces of the cluster the kubeconfig points at.
struct ListNamespaces: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list-namespaces", abstract: "Show the namespaces of the cluster.")

    @OptionGroup var kube: KubeFlags
    @OptionGroup var output: OutputFlags

    func run() async throws {
        let configuration = try ClientConfigurationLoader.load(overrides: kube.overrides())
        let client = KubeClient(configuration: configuration)
        let list: KubeList<Namespace>
        do {
            list = try await client.listAll(.namespaces)
        } catch let error as KubeError where error.isForbidden {
            throw CLIError("you may not list the cluster's namespaces (\(error)); ask your cluster admin for the namespaces you may use")
        }
        let names = list.items.compactMap { $0.metadata.name }.sorted()
        try output.print(names) { TextTable(header: nil, rows: names.map { [$0] }) }
    }
}
