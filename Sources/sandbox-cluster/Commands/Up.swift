import ArgumentParser
import ChildProcess
import Foundation
import Sandbox

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start a cluster in the background and print its kubeconfig path once it serves.")
    static let readyTimeout: TimeInterval = 10

    @OptionGroup var options: ClusterOptions

    @Option(help: "The address the API server listens on (on the host; the cluster side is always 192.0.2.1:6443).")
    var address: String = "127.0.0.1"

    @Option(help: "The node that runs pods: 'process' (default, needs root: network namespaces, services, DNS) or 'virtual' (pods Running and Ready without processes or network).")
    var node: NodeKind = .process

    @Option(name: .customLong("link-delay-ms"), help: "Delay every packet between the workstation and the cluster by this many milliseconds each way (ping shows twice this).")
    var linkDelayMs: Int?

    func validate() throws {
        if let linkDelayMs, linkDelayMs < 0 || linkDelayMs > 10_000 {
            throw ValidationError("--link-delay-ms must be between 0 and 10000.")
        }
        if linkDelayMs != nil, node == .virtual {
            throw ValidationError("--link-delay-ms needs the cluster network; drop '--node virtual'.")
        }
    }

    @Option(help: "A YAML file mapping images to executables for the process node (images: {REPOSITORY: {executable: PATH, args: [...]}}).")
    var images: String?

    func run() async throws {
        let started = ContinuousClock.now
        if node == .process, geteuid() != 0 { throw ClusterNetworkError.notRoot }
        let dir = options.directory
        if let pid = runningPID(in: dir) { throw ClusterError.alreadyRunning(options.name, pid: pid) }
        // A killed run's pods (processes, namespaces) go before its state does.
        await ProcessNode.removeLeftovers(names: ClusterNames(cluster: options.name), stateDirectory: dir)
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let log = dir.appendingPathComponent("server.log")
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var arguments = ["serve", "--name", options.name, "--state-dir", dir.path, "--address", address, "--node", node.rawValue]
        if let linkDelayMs { arguments += ["--link-delay-ms", String(linkDelayMs)] }
        if let images { arguments += ["--images", URL(fileURLWithPath: images).standardizedFileURL.path] }
        // Its own session, so it outlives this command and its terminal.
        let pid: pid_t
        do {
            pid = try ChildProcess.spawnDetached(executable: executable, arguments: arguments, log: log.path, logPermissions: 0o644)
        } catch {
            throw ClusterError.spawnFailed(error.errno)
        }
        let deadline = Date().addingTimeInterval(Self.readyTimeout)
        let kubeconfig = dir.appendingPathComponent("kubeconfig")
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { break }  // it exited: the log says why
            // The server writes `port` last, once the network and DNS serve too.
            if let port = try? String(contentsOf: dir.appendingPathComponent("port"), encoding: .utf8),
               let caPEM = try? String(contentsOf: dir.appendingPathComponent("ca.crt"), encoding: .utf8),
               await ReadinessProbe.isReady(host: address == "0.0.0.0" ? "127.0.0.1" : address,
                                            port: Int(port.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, caPEM: caPEM)
            {
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                FileHandle.standardError.write(Data("cluster '\(options.name)' ready in \(String(format: "%.2f", seconds)) s\n".utf8))
                print(kubeconfig.path)
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(pid, SIGKILL)
        // Whatever the killed server had made (namespaces) goes too.
        ClusterTopology.removeLeftovers(cluster: options.name)
        let reason = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").last { $0.hasPrefix("error: ") }
        if let reason { throw ClusterError.serveFailed(options.name, reason: String(reason.dropFirst(7)), log: log.path) }
        throw ClusterError.notReady(options.name, log: log.path)
    }
}
