import ArgumentParser
import ClientSupport
import Diagnostics

enum TelepresenceVersion {
    static let current = ProductVersion.current
}

/// `telepresence version`: the client's, the user daemon's and the traffic-manager's versions.
struct Version: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the versions of the client, the daemons and the traffic-manager.")

    @OptionGroup var output: OutputFlags

    struct View: Encodable {
        var client: String
        var user_daemon: String?
        var traffic_manager: String?
    }

    func run() async throws {
        var view = View(client: TelepresenceVersion.current)
        if let (daemon, manager) = try? await Daemon.ifRunning({ connector in
            async let version = connector.version()
            let status = try await connector.status()
            return (try await version.version, status?.managerVersion.version)
        }) {
            view.user_daemon = daemon
            view.traffic_manager = manager
        }
        try output.print(view) {
            TextTable(header: nil, rows: [
                ["Client:", "v\(view.client)"],
                ["User Daemon:", view.user_daemon.map { "v\($0)" } ?? "not running"],
                ["Traffic Manager:", view.traffic_manager.map { "v\($0)" } ?? "not connected"],
            ])
        }
    }
}
