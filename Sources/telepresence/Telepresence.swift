import ArgumentParser

@main
struct Telepresence: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telepresence",
        abstract: "Join your workstation to a Kubernetes cluster's network and engage its workloads.",
        version: TelepresenceVersion.current,
        subcommands: [Version.self, ListContexts.self, ListNamespaces.self]
    )
}
