import ArgumentParser
import ClientSupport

/// `telepresence status`: the daemon, the connection, the traffic-manager and the cluster facts.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the connection to the cluster and its traffic-manager.")

    @OptionGroup var output: OutputFlags

    func run() async throws {
        let view = try await Daemon.ifRunning { connector in
            async let version = connector.version()
            let info = try await connector.status()
            return StatusView(info: info, daemonVersion: try await version.version)
        } ?? StatusView.notRunning()
        try output.print(view) { view.text }
    }
}
