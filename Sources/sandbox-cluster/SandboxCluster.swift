import ArgumentParser

/// `sandbox-cluster`: one command per file under `Commands/`, the options and state they share
/// beside this file (`ClusterOptions`, `ClusterError`, `ClusterProcesses`, `NodeKind`).
@main
struct SandboxClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox-cluster",
        abstract: "A stand-in Kubernetes cluster (API server, controllers, node, cluster network) for tests and demos.",
        subcommands: [Up.self, Down.self, Status.self, Run.self, Workstation.self, Serve.self, ContainerExec.self, CoreDNS.self])
}
