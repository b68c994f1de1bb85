import ArgumentParser
import ClientSupport

/// `telepresence leave NAME`: ends one of this client's intercepts; the workload's port is
/// served by the app again.
struct Leave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End an intercept: its connections go to the app again.")

    @Argument(help: "The intercept's name (see 'telepresence list --intercepts').")
    var name: String

    func run() async throws {
        let name = self.name
        guard let outcome = try await Daemon.ifRunning({ try await $0.removeIntercept(name: name) }) else {
            throw CLIError("not connected; there is no intercept named \(name) to leave")
        }
        if !outcome.errorText.isEmpty { throw CLIError(outcome.errorText) }
    }
}
