import ArgumentParser
import ChildProcess
import ClientSupport
import Foundation
import NetworkAddress

/// `telepresence connect`: starts the user daemon if needed and connects it to the cluster's
/// traffic-manager; with `-- CMD`, runs the command while connected, then disconnects.
struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect to the cluster: the workstation joins its network (run a command while connected with -- CMD).")

    @Option(name: .shortAndLong, help: "The namespace to connect to (default: the context's namespace).")
    var namespace: String?

    @Option(help: "The namespace the traffic-manager runs in (default: cluster.defaultManagerNamespace in config.yml, else ambassador).")
    var managerNamespace: String?

    @Option(help: "Comma-separated namespaces to map (DNS, routing); default: all.")
    var mappedNamespaces: String?

    @Option(name: .customLong("also-proxy"), help: "Also route these subnets (CIDR, comma-separated or repeated) to the cluster.")
    var alsoProxy: [String] = []

    @Option(name: .customLong("never-proxy"), help: "Never route these subnets (CIDR) to the cluster.")
    var neverProxy: [String] = []

    @Option(name: .customLong("allow-conflicting-subnets"), help: "Route these cluster subnets (CIDR) even where a local route claims them.")
    var allowConflictingSubnets: [String] = []

    @OptionGroup var kube: KubeFlags
    @OptionGroup var output: OutputFlags

    @Argument(parsing: .postTerminator, help: "A command to run while connected; the connection ends when it exits.")
    var command: [String] = []

    func run() async throws {
        let request = ConnectRequest(
            kubeFlags: kube.byName, namespace: namespace, managerNamespace: managerNamespace,
            mappedNamespaces: (mappedNamespaces ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty },
            environment: ProcessInfo.processInfo.environment, workingDirectory: FileManager.default.currentDirectoryPath,
            alsoProxy: Self.subnets(alsoProxy), neverProxy: Self.subnets(neverProxy),
            allowConflictingSubnets: Self.subnets(allowConflictingSubnets))
        // The root daemon owns the network device; it is started first (with sudo when not
        // root, which may ask for a password here, on the terminal).
        let root = RootDaemonClient(paths: RootDaemonPaths(Daemon.paths))
        if !root.isRunning() {
            Terminal.progress("Launching Telepresence Root Daemon")
            try await root.ensureRunning(executable: Terminal.executablePath)
        }
        let (outcome, daemonVersion) = try await Daemon.started { connector in
            Terminal.progress("Connecting to traffic manager...")
            async let version = connector.version()
            let outcome = try await connector.connect(request)
            return (outcome, try await version.version)
        }
        let info: ConnectionInfo
        switch outcome {
        case .connected(let connection), .alreadyConnected(let connection):
            info = connection
        case .failed(let failure):
            throw CLIError(failure.description)
        }
        let view = StatusView(info: info, daemonVersion: daemonVersion)
        if output.output == .default {
            let verb = if case .alreadyConnected = outcome { "Already connected" } else { "Connected" }
            print("\(verb) to context \(info.clusterContext), namespace \(info.namespace) (\(info.clusterServer))")
            if case .connected = outcome {
                for note in info.notes { print("Note: \(note)") }
            }
        } else {
            try output.print(view) { view.text }
        }
        guard !command.isEmpty else { return }
        let status = try await runWhileConnected(command)
        _ = try await Daemon.ifRunning { try await $0.disconnect() }
        if status != 0 { throw ExitCode(status) }
    }

    /// The connection the daemon holds, or a new one made as `connect` makes it (with the
    /// kubectl flags given): commands that engage imply `connect`, as in Telepresence.
    static func ensureConnected(kube: KubeFlags) async throws -> ConnectionInfo {
        if let running = try await Daemon.ifRunning({ try await $0.status() }), let info = running { return info }
        let request = ConnectRequest(
            kubeFlags: kube.byName, environment: ProcessInfo.processInfo.environment,
            workingDirectory: FileManager.default.currentDirectoryPath)
        let root = RootDaemonClient(paths: RootDaemonPaths(Daemon.paths))
        if !root.isRunning() {
            Terminal.progress("Launching Telepresence Root Daemon")
            try await root.ensureRunning(executable: Terminal.executablePath)
        }
        let outcome = try await Daemon.started { connector in
            Terminal.progress("Connecting to traffic manager...")
            return try await connector.connect(request)
        }
        switch outcome {
        case .connected(let info), .alreadyConnected(let info):
            return info
        case .failed(let failure):
            throw CLIError("not connected, and connecting failed: \(failure.description)")
        }
    }

    func validate() throws {
        for text in Self.cidrs(alsoProxy + neverProxy + allowConflictingSubnets) where !Self.isCIDR(text) {
            throw ValidationError("\(text) is not a subnet; write it as A.B.C.D/N (or an IPv6 prefix such as fd00::/64)")
        }
    }

    static func cidrs(_ values: [String]) -> [String] {
        values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The flag's subnets (`validate()` has refused any that is not one).
    static func subnets(_ values: [String]) -> [IPSubnet] {
        cidrs(values).compactMap { IPSubnet($0) }
    }

    /// A subnet written with its prefix (a bare address is refused here, though VIF reads it as /32).
    static func isCIDR(_ text: String) -> Bool {
        IPSubnet(text) != nil
    }

    /// Runs the command with this terminal, returns its exit status.
    private func runWhileConnected(_ command: [String]) async throws -> Int32 {
        do {
            return try await ChildProcess.runAttached(executable: "/usr/bin/env", arguments: command)
        } catch {
            throw CLIError("\(command[0]) could not be started: \(error)")
        }
    }
}
