import ArgumentParser
import ClientSupport
import Diagnostics
import Foundation
import Logging
import RootDaemon

/// `telepresence daemon-foreground` (hidden): the root daemon, started by the CLI (with sudo
/// when not root).
struct DaemonForeground: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon-foreground", abstract: "Run the root daemon (started by the CLI; not for direct use).",
        shouldDisplay: false)

    @Option(help: "The folder of the socket and the state (the user's runtime folder).")
    var directory: String

    @Option(help: "The user allowed to use the socket.")
    var allowedUid: UInt32

    func run() async throws {
        ProcessMemory.keepFreedBuffers()
        let control = LogLevelControl(configured: .info)
        let logger = Logger(label: "daemon") { label in
            LevelControlledLogHandler(label: label, control: control, output: .standardError)
        }
        signal(SIGPIPE, SIG_IGN)
        let daemon = try await RootDaemon.start(
            paths: RootDaemonPaths(directory: URL(fileURLWithPath: directory)), allowedUID: allowedUid, logger: logger)
        await DaemonLifetime.run(wait: { await daemon.wait() }, stop: { await daemon.stop() })
        logger.info("root daemon exiting")
    }
}
