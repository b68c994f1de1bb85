import ArgumentParser
import ClientSupport
import Foundation

/// `telepresence quit`: ends the session and stops the daemons, the root daemon included (its
/// device, routes and DNS configuration go with it), so nothing is left behind.
struct Quit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Disconnect from the cluster and stop the daemons.")

    @Flag(name: [.customShort("s"), .customLong("stop-daemons")], help: "Also stop the root daemon.")
    var stopDaemons = false

    func run() async throws {
        let paths = Daemon.paths
        let stopped: Void? = try? await Daemon.ifRunning { try await $0.quit() }
        // Wait (bounded) until the socket is gone, so a following command starts a fresh daemon.
        let deadline = ContinuousClock.now + .seconds(5)
        while stopped != nil && FileManager.default.fileExists(atPath: paths.connectorSocket.path) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        // The root daemon: quit removes the device, routes and resolv.conf change, then it exits.
        let root = RootDaemonClient(paths: RootDaemonPaths(paths))
        var rootStopped = false
        if root.isRunning() {
            rootStopped = (try? await root.withSession { try await $0.quit() }) != nil
            let rootDeadline = ContinuousClock.now + .seconds(5)
            while root.isRunning() && ContinuousClock.now < rootDeadline { try await Task.sleep(for: .milliseconds(10)) }
        }
        print(stopped == nil && !rootStopped ? "Telepresence was not running" : "Telepresence Daemons quitting...done")
    }
}
