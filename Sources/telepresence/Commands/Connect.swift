import ArgumentParser
import Foundation
import GRPCCore
import RPC
import TelepresenceClient

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

    @OptionGroup var kube: KubeFlags
    @OptionGroup var output: OutputFlags

    @Argument(parsing: .postTerminator, help: "A command to run while connected; the connection ends when it exits.")
    var command: [String] = []

    func run() async throws {
        let request = Telepresence_Connector_ConnectRequest.with {
            $0.kubeFlags = kube.byName
            $0.namespace = namespace ?? ""
            $0.managerNamespace = managerNamespace ?? ""
            $0.mappedNamespaces = (mappedNamespaces ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            $0.environment = ProcessInfo.processInfo.environment
            $0.workingDirectory = FileManager.default.currentDirectoryPath
        }
        let (info, daemonVersion) = try await Daemon.started { connector in
            Terminal.progress("Connecting to traffic manager...")
            async let version = connector.version(request: ClientRequest(message: .init()))
            let info = try await connector.connect(request: ClientRequest(message: request))
            return (info, try await version.version)
        }
        switch info.error {
        case .unspecified, .alreadyConnected:
            break
        default:
            throw CLIError(info.errorText)
        }
        let view = StatusView(info: info, daemonVersion: daemonVersion)
        if output.output == .default {
            let verb = info.error == .alreadyConnected ? "Already connected" : "Connected"
            print("\(verb) to context \(info.clusterContext), namespace \(info.namespace) (\(info.clusterServer))")
        } else {
            try output.print(view) { view.text }
        }
        guard !command.isEmpty else { return }
        let status = try runWhileConnected(command)
        _ = try await Daemon.ifRunning { connector in
            try await connector.disconnect(request: ClientRequest(message: .init()))
        }
        if status != 0 { throw ExitCode(status) }
    }

    /// Runs the command with this terminal, returns its exit status.
    private func runWhileConnected(_ command: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        do { try process.run() } catch {
            throw CLIError("\(command[0]) could not be started: \(error)")
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
