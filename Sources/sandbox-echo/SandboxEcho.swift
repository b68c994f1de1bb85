// The sandbox's test app (image `sandbox.local/echo`). With no arguments it serves: HTTP on
// $HTTP_PORT (8080), HTTP/1.1 and HTTP/2 cleartext (prior knowledge or `Upgrade: h2c`), that
// answers every request with JSON describing it (method, path, query, headers, body, the pod's
// name and the variables named in $ECHO_ENV), and the gRPC method /echo.Echo/Say on the same port;
// a TCP echo on $TCP_PORT (9000) and a UDP echo on $UDP_PORT (9001). It exits on SIGTERM, as a
// well-behaved container does. `sandbox-echo grpc-call HOST:PORT` is a gRPC client for tests.
import ArgumentParser
import Foundation

@main
struct SandboxEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox-echo",
        abstract: "The sandbox's echo app: HTTP/1.1, h2c and gRPC echo, TCP and UDP echo.",
        subcommands: [Serve.self, GRPCCall.self],
        defaultSubcommand: Serve.self
    )
}

/// The pod's environment, as the serving side reads it.
enum EchoEnvironment {
    static let variables = ProcessInfo.processInfo.environment
    static func port(_ name: String, _ fallback: Int) -> Int { variables[name].flatMap(Int.init) ?? fallback }
    static let podName = variables["POD_NAME"] ?? ProcessInfo.processInfo.hostName
    static let echoedVariables = (variables["ECHO_ENV"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
}

/// A line on stdout, unbuffered (the node's log pump sees it at once).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
