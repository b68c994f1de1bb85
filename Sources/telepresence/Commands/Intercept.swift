import ArgumentParser
import ClientSupport
import Foundation
import NetworkAddress

/// `telepresence intercept NAME`: the workload's port sends its connections to this machine
/// (ADDRESS:LOCAL), with the engaged container's environment written to a file or handed to a
/// command run after `--`; the intercept ends with `leave`, `quit`, or the command's exit.
struct InterceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intercept",
        abstract: "Intercept a workload's port: its connections come to this machine (run a handler with -- CMD).")

    @Argument(help: "The intercept's name; also the workload's unless --workload is given.")
    var name: String

    @Option(name: .shortAndLong, help: "LOCAL[:IDENTIFIER]: the local port connections go to (default 8080), and the service port's name or number (/TCP or /UDP allowed) when the Service has several.")
    var port: String?

    @Option(help: "The Service to intercept when several select the workload.")
    var service: String?

    @Option(name: .shortAndLong, help: "The workload, when it differs from NAME.")
    var workload: String?

    @Option(help: "The container whose environment and mounts are used (default: the one that owns the port).")
    var container: String?

    @Option(help: "The local address connections go to.")
    var address = "127.0.0.1"

    @Option(name: .shortAndLong, help: "Write the container's environment to this file (see --env-syntax).")
    var envFile: String?

    @Option(help: "The syntax of --env-file: \(EnvironmentSyntax.usage).")
    var envSyntax = "docker"

    @Option(name: [.customShort("j"), .long], help: "Write the container's environment to this file as a JSON object.")
    var envJson: String?

    @Option(name: .customLong("to-pod"), help: "PORT[/TCP]: forward 127.0.0.1:PORT to the intercepted pod's PORT (repeatable).")
    var toPod: [String] = []

    @Option(help: "A message printed once the handler has started.")
    var waitMessage: String?

    @Flag(help: "With --output json|yaml: every field of the intercept, its environment included.")
    var detailedOutput = false

    @Option(name: .shortAndLong, help: "The workload's namespace (default: the connected one).")
    var namespace: String?

    @OptionGroup var kube: KubeFlags
    @OptionGroup var output: OutputFlags

    @Argument(parsing: .postTerminator, help: "A handler to run with the container's environment; the intercept ends when it exits.")
    var command: [String] = []

    /// Bad values are one sentence and exit code 1, as Telepresence says them (not a usage text).
    func validate() throws {
        _ = try Self.parsePort(port)
        guard EnvironmentSyntax(rawValue: envSyntax) != nil else {
            throw CLIError("--env-syntax \(envSyntax) is unknown; use \(EnvironmentSyntax.usage)")
        }
        for value in toPod where Self.parseToPod(value) == nil {
            throw CLIError("--to-pod \(value) is not a port; write it as PORT or PORT/TCP, e.g. --to-pod 8081")
        }
        guard Self.targetHost(address) != nil else {
            throw CLIError("--address \(address) is not an IP address; use one such as 127.0.0.1")
        }
        guard Self.isName(name) else {
            throw CLIError("\(name) is not a valid intercept name; use lower-case letters, digits and '-', as a workload's name")
        }
    }

    /// `--port LOCAL[:IDENTIFIER]`: the local port (8080 when not given) and the identifier.
    static func parsePort(_ value: String?) throws -> (local: Int, identifier: String) {
        guard let value else { return (8080, "") }
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let local = Int(parts[0]), (1...65535).contains(local) else {
            throw CLIError("--port \(value): the local port must be a number from 1 to 65535, as in --port 8080 or --port 8080:http")
        }
        let identifier = parts.count > 1 ? parts[1] : ""
        if parts.count > 1 {
            let base = identifier.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let protocolOK = base.count == 1 || ["TCP", "UDP"].contains(base[1].uppercased())
            guard !base[0].isEmpty, protocolOK, base[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw CLIError("--port \(value): the identifier must be a service port's name or number, optionally with /TCP or /UDP, as in --port 8080:http")
            }
        }
        return (local, identifier)
    }

    static func parseToPod(_ value: String) -> String? {
        let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let port = Int(parts[0]), (1...65535).contains(port) else { return nil }
        if parts.count > 1 && !["TCP", "UDP"].contains(parts[1].uppercased()) { return nil }
        return "\(port)/\(parts.count > 1 ? parts[1].uppercased() : "TCP")"
    }

    static func targetHost(_ address: String) -> String? {
        if address == "localhost" { return "127.0.0.1" }
        return IPAddress(address) == nil ? nil : address
    }

    static func isName(_ name: String) -> Bool {
        guard let first = name.first, name.count <= 253, first.isLetter || first.isNumber else { return false }
        return name.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" || $0 == "." }
    }

    func run() async throws {
        let (local, identifier) = try Self.parsePort(port)
        let syntax = EnvironmentSyntax(rawValue: envSyntax) ?? .docker
        _ = try await Connect.ensureConnected(kube: kube)
        let request = InterceptRequest(
            name: name, workload: workload ?? name, namespace: namespace ?? "", portIdentifier: identifier,
            serviceName: service ?? "", containerName: container ?? "", targetHost: Self.targetHost(address) ?? address,
            targetPort: local, toPod: toPod.compactMap(Self.parseToPod))
        let outcome = try await Daemon.started { try await $0.createIntercept(request) }
        guard let intercept = outcome.intercept, outcome.errorText.isEmpty else {
            throw CLIError(outcome.errorText.isEmpty ? "the intercept of \(request.workload) failed for no reason given; see the daemon's log" : outcome.errorText)
        }
        let environment = intercept.handlerEnvironment
        do {
            if let envFile { try syntax.render(environment).write(toFile: envFile, atomically: true, encoding: .utf8) }
            if let envJson { try EnvironmentSyntax.json.render(environment).write(toFile: envJson, atomically: true, encoding: .utf8) }
        } catch {
            _ = try? await Daemon.ifRunning { try await $0.removeIntercept(name: intercept.name) }
            throw CLIError("the environment could not be written (\(error)); the intercept was removed")
        }
        let view = InterceptView(intercept, path: outcome.path, detailed: detailedOutput)
        if output.output == .default {
            print(view.text, terminator: "")
        } else {
            try output.print(view) { TextTable(header: nil, rows: []) }
        }
        guard !command.isEmpty else { return }
        // What was printed comes before the handler's own output, also into a pipe or file
        // (fflush(nil) flushes every output stream).
        fflush(nil)
        let status = try await InterceptHandler(intercept: intercept, command: command, waitMessage: waitMessage).run()
        if status != 0 { throw ExitCode(status) }
    }
}
