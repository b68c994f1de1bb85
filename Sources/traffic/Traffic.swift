import ArgumentParser
import Diagnostics
import Foundation
import KubeClient
import Logging
import RPC
import TrafficManager
import UnixSignals

/// `traffic`: the cluster-side executable of Telepresence (one image for the manager and, later,
/// the agent).
@main
struct Traffic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic", abstract: "Telepresence's cluster side.",
        version: ProductVersion.current, subcommands: [Manager.self])
}

/// `traffic manager`: the traffic-manager, configured from its environment (the Deployment's
/// env), talking to the API with the pod's service account.
struct Manager: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the traffic-manager.")

    @Option(help: "Use this kubeconfig instead of the in-cluster service account (development).")
    var kubeconfig: String?

    func run() async throws {
        ProcessMemory.keepFreedBuffers()
        let settings = try ManagerSettings.fromEnvironment(ProcessInfo.processInfo.environment)
        let control = LogLevelControl(configured: LogLevelControl.parse(settings.logLevel) ?? .info)
        let logger = Logger(label: "traffic-manager") { label in
            LevelControlledLogHandler(label: label, control: control, output: .standardError)
        }
        let configuration = kubeconfig != nil
            ? try ClientConfigurationLoader.load(overrides: ConfigurationOverrides(kubeconfig: kubeconfig))
            : try ClientConfigurationLoader.inCluster()
        let manager = try await TrafficManager.start(
            settings: settings, client: KubeClient(configuration: configuration), logLevel: control, logger: logger)
        signal(SIGPIPE, SIG_IGN)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await manager.wait() }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { await manager.stop(); return }
            }
            await group.next()
            group.cancelAll()
        }
        logger.info("traffic-manager exiting")
    }
}
