import ArgumentParser
import Diagnostics

@main
struct Telepresence: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telepresence",
        abstract: "Join your workstation to a Kubernetes cluster's network and engage its workloads.",
        version: ProductVersion.current,
        subcommands: [
            Connect.self, Status.self, List.self, InterceptCommand.self, WiretapCommand.self, ReplaceCommand.self, IngestCommand.self, Leave.self, Uninstall.self, Quit.self, Version.self, Config.self, LogLevel.self, Helm.self,
            ListContexts.self, ListNamespaces.self, Userd.self, DaemonForeground.self,
        ]
    )
}
