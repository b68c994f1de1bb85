import ArgumentParser
import ClientSupport
import RPC

/// `telepresence replace WORKLOAD`: the container leaves the workload's pods (they roll) and
/// every port it declares (or those `-p` names) comes to this machine; `leave` brings it back.
struct ReplaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replace",
        abstract: "Replace a workload's container with this machine: its ports come here (run a handler with -- CMD).")

    @Argument(help: "The workload; also the engagement's name.")
    var workload: String

    @Option(name: .shortAndLong, help: "The container to replace (default: the first).")
    var container: String?

    @Option(name: .shortAndLong, help: "LOCAL:CONTAINERPORT (a name or number, /TCP or /UDP allowed): only these ports, each to its local port (repeatable; default: every declared port to the same local port).")
    var port: [String] = []

    @Option(help: "The local address connections go to.")
    var address = "127.0.0.1"

    @Option(name: .shortAndLong, help: "The workload's namespace (default: the connected one).")
    var namespace: String?

    @OptionGroup var kube: KubeFlags
    @OptionGroup var handler: HandlerOptions

    func validate() throws {
        for value in port { try Self.checkPort(value) }
        guard PortTargetOptions.targetHost(address) != nil else {
            throw CLIError("--address \(address) is not an IP address; use one such as 127.0.0.1")
        }
        guard PortTargetOptions.isName(workload) else {
            throw CLIError("\(workload) is not a workload's name; use lower-case letters, digits and '-'")
        }
    }

    /// `LOCAL:CONTAINERPORT` (CONTAINERPORT a name or number, optionally /TCP or /UDP).
    static func checkPort(_ value: String) throws {
        let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let local = Int(parts[0]), (1...65535).contains(local) else {
            throw CLIError("--port \(value): write LOCAL:CONTAINERPORT with a local port from 1 to 65535, as in --port 8080:http")
        }
        let base = parts[1].split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let protocolOK = base.count == 1 || ["TCP", "UDP"].contains(base[1].uppercased())
        guard !base[0].isEmpty, protocolOK, base[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw CLIError("--port \(value): the container port must be its name or number, optionally with /TCP or /UDP, as in --port 8080:http")
        }
    }

    func request() -> InterceptRequest {
        InterceptRequest(
            name: workload, kind: .replace, workload: workload, namespace: namespace ?? "",
            portIdentifier: port.joined(separator: ","), containerName: container ?? "",
            targetHost: PortTargetOptions.targetHost(address) ?? address, targetPort: 0)
    }

    func run() async throws {
        try await handler.engage(request(), kube: kube)
    }
}
