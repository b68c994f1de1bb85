import ArgumentParser
import ClientSupport
import ManagerInstall

/// `telepresence config view`: the client configuration in force (config.yml merged with the
/// defaults).
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the client configuration.", subcommands: [View.self])

    struct View: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the merged client configuration (config.yml and defaults).")

        @Flag(name: [.customShort("c"), .customLong("client-only")], help: "Only the client's configuration (the only kind there is so far).")
        var clientOnly = false

        @OptionGroup var output: OutputFlags

        struct Effective: Encodable {
            struct Timeouts: Encodable { var clusterConnect: String; var trafficManagerConnect: String; var connectorStart: String }
            struct LogLevels: Encodable { var userDaemon: String; var rootDaemon: String }
            struct Cluster: Encodable { var defaultManagerNamespace: String; var mappedNamespaces: [String] }
            struct Images: Encodable { var registry: String; var agentImage: String?; var managerImage: String? }
            var file: String
            var timeouts: Timeouts
            var logLevels: LogLevels
            var cluster: Cluster
            var images: Images
        }

        func run() async throws {
            let paths = Daemon.paths
            let config = try ClientConfig.load(from: paths.configFile)
            func seconds(_ d: Duration) -> String { "\(d.components.seconds)s" }
            let effective = Effective(
                file: paths.configFile.path,
                timeouts: .init(
                    clusterConnect: seconds(config.clusterConnectTimeout),
                    trafficManagerConnect: seconds(config.trafficManagerConnectTimeout),
                    connectorStart: seconds(config.connectorStartTimeout)),
                logLevels: .init(userDaemon: config.userDaemonLogLevel, rootDaemon: config.logLevels?.rootDaemon ?? "info"),
                cluster: .init(defaultManagerNamespace: config.defaultManagerNamespace, mappedNamespaces: config.cluster?.mappedNamespaces ?? []),
                images: .init(
                    registry: config.images?.registry ?? ManagerValues.defaultImageRegistry,
                    agentImage: config.images?.agentImage, managerImage: config.images?.managerImage))
            try output.print(effective) {
                TextTable(header: nil, rows: [
                    ["file:", effective.file],
                    ["timeouts.clusterConnect:", effective.timeouts.clusterConnect],
                    ["timeouts.trafficManagerConnect:", effective.timeouts.trafficManagerConnect],
                    ["timeouts.connectorStart:", effective.timeouts.connectorStart],
                    ["logLevels.userDaemon:", effective.logLevels.userDaemon],
                    ["logLevels.rootDaemon:", effective.logLevels.rootDaemon],
                    ["cluster.defaultManagerNamespace:", effective.cluster.defaultManagerNamespace],
                    ["images.registry:", effective.images.registry],
                ])
            }
        }
    }
}
