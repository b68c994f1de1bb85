import ArgumentParser
import ClientSupport
import Diagnostics

/// `telepresence loglevel LEVEL`: the user daemon's and the traffic-manager's log level, for a
/// while (default 30 minutes, as Telepresence) or until changed (`--duration 0`).
struct LogLevel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loglevel", abstract: "Set the log level of the daemons and the traffic-manager for a while.")

    @Argument(help: "error, warning, info, debug or trace.")
    var level: String

    @Option(name: .shortAndLong, help: "How long the level applies (e.g. 30m, 90s; 0 means until changed).")
    var duration: String = "30m"

    @Flag(name: .shortAndLong, help: "Only the local daemons.")
    var localOnly = false

    @Flag(name: .shortAndLong, help: "Only the traffic-manager.")
    var remoteOnly = false

    func validate() throws {
        guard LogLevelControl.parse(level) != nil else {
            throw ValidationError("log level \(level) is unknown; use error, warning, info, debug or trace")
        }
        guard ManagerDuration.seconds(duration) != nil else {
            throw ValidationError("--duration \(duration) is not a duration; write e.g. 30m, 90s or 0")
        }
    }

    func run() async throws {
        let (level, localOnly, remoteOnly) = (level, localOnly, remoteOnly)
        let seconds = ManagerDuration.seconds(duration) ?? 0
        let ran: Void? = try await Daemon.ifRunning { connector in
            try await connector.setLogLevel(level, duration: seconds > 0 ? .seconds(seconds) : nil, local: localOnly, remote: remoteOnly)
        }
        guard ran != nil else { throw CLIError("telepresence is not running; run 'telepresence connect' first") }
    }
}

enum ManagerDuration {
    static func seconds(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("h", 3600), ("m", 60), ("s", 1)]
        if let plain = Int64(text) { return plain }
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let number = Int64(text.dropLast()) { return number * factor }
        }
        return nil
    }
}
