import ArgumentParser
import ClientSupport

/// `telepresence leave NAME [-c CONTAINER]`: ends one of this client's engagements (intercept,
/// wiretap, replace or ingest); an intercepted port is served by the app again, a replaced
/// container comes back.
struct Leave: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End an engagement: an intercepted port goes to the app again, a replaced container comes back.")

    @Argument(help: "The engagement's name (see 'telepresence list').")
    var name: String

    @Option(name: .shortAndLong, help: "The engaged container (to end a replace or an ingest of a particular container).")
    var container: String?

    func run() async throws {
        let name = self.name, container = self.container ?? ""
        guard let outcome = try await Daemon.ifRunning({ try await $0.removeIntercept(name: name, container: container) }) else {
            throw CLIError("not connected; there is no engagement named \(name) to leave")
        }
        if !outcome.errorText.isEmpty { throw CLIError(outcome.errorText) }
    }
}
