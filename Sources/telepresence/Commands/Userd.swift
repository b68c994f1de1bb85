import ArgumentParser
import ClientSupport
import Diagnostics
import Foundation
import Logging
import UserDaemon

/// `telepresence userd` (hidden): the user daemon, started in the background by the CLI.
struct Userd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "userd", abstract: "Run the user daemon (started by the CLI; not for direct use).",
        shouldDisplay: false)

    func run() async throws {
        ProcessMemory.keepFreedBuffers()
        let paths = ClientPaths.current
        let config = (try? ClientConfig.load(from: paths.configFile)) ?? ClientConfig()
        let control = LogLevelControl(configured: LogLevelControl.parse(config.userDaemonLogLevel) ?? .info)
        // stdout/stderr are the log file when started by the CLI.
        let logger = Logger(label: "connector") { label in
            LevelControlledLogHandler(label: label, control: control, output: .standardError)
        }
        signal(SIGPIPE, SIG_IGN)
        let daemon = try await ConnectorDaemon.start(paths: paths, config: config, logLevel: control, logger: logger)
        await DaemonLifetime.run(wait: { await daemon.wait() }, stop: { await daemon.stop() })
        logger.info("user daemon exiting")
    }
}
