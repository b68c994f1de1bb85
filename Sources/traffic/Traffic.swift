import ArgumentParser
import Diagnostics
import Foundation
import KubeClient
import Logging
import RPC
import TrafficAgent
import TrafficManager
import UnixSignals

/// `traffic`: the cluster-side executable of Telepresence (one image for the manager, the
/// agent and the agent's init container).
@main
struct Traffic: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic", abstract: "Telepresence's cluster side.",
        version: ProductVersion.current, subcommands: [Manager.self, AgentCommand.self, AgentInitCommand.self])
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

/// `traffic agent`: the traffic-agent sidecar, configured by its mounted config and env. A config
/// it cannot read: one line on stderr and exit 1 (the pod shows CrashLoopBackOff).
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "agent", abstract: "Run the traffic-agent (a sidecar in an engaged pod).")

    func run() async throws {
        ProcessMemory.keepFreedBuffers()
        let settings: AgentSettings
        do {
            settings = try AgentSettings.load(environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        let control = LogLevelControl(configured: LogLevelControl.parse(settings.config.logLevel) ?? .info)
        let logger = Logger(label: "traffic-agent") { label in
            LevelControlledLogHandler(label: label, control: control, output: .standardError)
        }
        signal(SIGPIPE, SIG_IGN)
        let failure = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do { try await AgentProcess.run(settings: settings, logger: logger) } catch { return error }
                return nil
            }
            group.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { return nil }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            var rest: (any Error)? = nil
            for await other in group { rest = rest ?? other }
            return first ?? rest
        }
        if let failure {
            FileHandle.standardError.write(Data("\(failure)\n".utf8))
            throw ExitCode(1)
        }
        logger.info("traffic-agent exiting")
    }
}

/// `traffic agent-init`: the init container; installs the pod's nftables redirects.
struct AgentInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent-init", abstract: "Redirect numeric target ports to the traffic-agent (init container, NET_ADMIN).")

    func run() throws {
        do {
            let settings = try AgentSettings.load(environment: ProcessInfo.processInfo.environment)
            try AgentInit.install(settings.config)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
