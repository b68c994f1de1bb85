import ArgumentParser
import Foundation
import Sandbox

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop a cluster and remove everything it made (also what a killed one left: namespaces, processes, files).")

    @OptionGroup var options: ClusterOptions

    func run() async throws {
        let dir = options.directory
        var pids = serverProcesses(name: options.name)
        if let pid = runningPID(in: dir), !pids.contains(pid) { pids.append(pid) }
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while pids.contains(where: isAlive) && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        for pid in pids where isAlive(pid) { kill(pid, SIGKILL) }
        let leftovers = ClusterTopology.removeLeftovers(cluster: options.name)
        if !pids.isEmpty {
            print("cluster '\(options.name)' stopped")
        } else if !leftovers.isEmpty {
            print("cluster '\(options.name)' was not running; removed what it left: \(leftovers.joined(separator: ", "))")
        } else {
            print("cluster '\(options.name)' is not running")
        }
        // Whatever a killed server's process node left (pods' namespaces and processes).
        await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
        try? FileManager.default.removeItem(at: dir)
    }
}
