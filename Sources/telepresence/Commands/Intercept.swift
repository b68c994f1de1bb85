import ArgumentParser
import ClientSupport
import Foundation
import NetworkAddress
import HTTPRouting
import RPC

/// `telepresence intercept NAME`: the workload's port sends its connections (or, with
/// `--http-*`, only the matching HTTP requests) to this machine (ADDRESS:LOCAL), with the
/// engaged container's environment written to a file or handed to a command run after `--`; the
/// intercept ends with `leave`, `quit`, or the command's exit.
struct InterceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intercept",
        abstract: "Intercept a workload's port: its connections come to this machine (run a handler with -- CMD).")

    @OptionGroup var target: PortTargetOptions

    @Option(name: .customLong("to-pod"), help: "PORT[/TCP]: forward 127.0.0.1:PORT to the intercepted pod's PORT (repeatable).")
    var toPod: [String] = []

    @OptionGroup var filter: HTTPFilterOptions
    @OptionGroup var kube: KubeFlags
    @OptionGroup var handler: HandlerOptions

    /// Bad values are one sentence and exit code 1, as Telepresence says them (not a usage text).
    func validate() throws {
        for value in toPod where Self.parseToPod(value) == nil {
            throw CLIError("--to-pod \(value) is not a port; write it as PORT or PORT/TCP, e.g. --to-pod 8081")
        }
    }

    static func parseToPod(_ value: String) -> String? {
        let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let port = Int(parts[0]), (1...65535).contains(port) else { return nil }
        if parts.count > 1 && !["TCP", "UDP"].contains(parts[1].uppercased()) { return nil }
        return "\(port)/\(parts.count > 1 ? parts[1].uppercased() : "TCP")"
    }

    func request() throws -> InterceptRequest {
        var request = try target.request(kind: .intercept, filter: filter.filter())
        request.toPod = toPod.compactMap(Self.parseToPod)
        return request
    }

    func run() async throws {
        try await handler.engage(try request(), kube: kube)
    }
}

/// `telepresence wiretap NAME`: a copy of the port's connections (or of the matching HTTP
/// requests) comes to this machine; the app still answers everything, and the handler's answers
/// are discarded. Any number of clients may wiretap a port. `intercept`'s flags but --to-pod.
struct WiretapCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wiretap",
        abstract: "Wiretap a workload's port: a copy of its traffic comes to this machine (run a handler with -- CMD).")

    @OptionGroup var target: PortTargetOptions
    @OptionGroup var filter: HTTPFilterOptions
    @OptionGroup var kube: KubeFlags
    @OptionGroup var handler: HandlerOptions

    func request() throws -> InterceptRequest {
        try target.request(kind: .wiretap, filter: filter.filter())
    }

    func run() async throws {
        try await handler.engage(try request(), kube: kube)
    }
}

/// The arguments of `intercept` and `wiretap` that say which port of which workload, and where
/// its connections go on this machine.
struct PortTargetOptions: ParsableArguments {
    @Argument(help: "The engagement's name; also the workload's unless --workload is given.")
    var name: String

    @Option(name: .shortAndLong, help: "LOCAL[:IDENTIFIER]: the local port connections go to (default 8080), and the service port's name or number (/TCP or /UDP allowed) when the Service has several.")
    var port: String?

    @Option(help: "The Service to engage when several select the workload.")
    var service: String?

    @Option(name: .shortAndLong, help: "The workload, when it differs from NAME.")
    var workload: String?

    @Option(help: "The container whose environment and mounts are used (default: the one that owns the port).")
    var container: String?

    @Option(help: "The local address connections go to.")
    var address = "127.0.0.1"

    @Option(name: .shortAndLong, help: "The workload's namespace (default: the connected one).")
    var namespace: String?

    /// Bad values are one sentence and exit code 1, as Telepresence says them (not a usage text).
    func validate() throws {
        _ = try Self.parsePort(port)
        guard Self.targetHost(address) != nil else {
            throw CLIError("--address \(address) is not an IP address; use one such as 127.0.0.1")
        }
        guard Self.isName(name) else {
            throw CLIError("\(name) is not a valid name; use lower-case letters, digits and '-', as a workload's name")
        }
    }

    func request(kind: EngagementKind, filter: HTTPFilter?) throws -> InterceptRequest {
        let (local, identifier) = try Self.parsePort(port)
        return InterceptRequest(
            name: name, kind: kind, filter: filter, workload: workload ?? name, namespace: namespace ?? "",
            portIdentifier: identifier, serviceName: service ?? "", containerName: container ?? "",
            targetHost: Self.targetHost(address) ?? address, targetPort: local)
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

    static func targetHost(_ address: String) -> String? {
        if address == "localhost" { return "127.0.0.1" }
        return IPAddress(address) == nil ? nil : address
    }

    static func isName(_ name: String) -> Bool {
        guard let first = name.first, name.count <= 253, first.isLetter || first.isNumber else { return false }
        return name.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" || $0 == "." }
    }

}
