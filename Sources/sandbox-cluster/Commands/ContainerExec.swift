import ArgumentParser
import Foundation
import Sandbox

/// The process node's launcher: sets a container up from its launch spec and execs it (see
/// `ContainerLauncher`). Started by the node, never by users.
struct ContainerExec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "container-exec", abstract: "Start a container process from a launch spec (used by the process node).",
        shouldDisplay: false)

    @Argument(help: "The launch spec (JSON) the node wrote.")
    var spec: String

    func run() throws {
        let failure = ContainerLauncher.run(specPath: spec)
        FileHandle.standardError.write(Data("\(failure)\n".utf8))
        Foundation.exit(127)
    }
}
