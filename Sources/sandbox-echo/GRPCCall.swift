import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// `sandbox-echo grpc-call HOST:PORT [--header NAME=VALUE]... [--message TEXT]`: one call of
/// /echo.Echo/Say over h2c (prior knowledge); prints the answer's JSON, exits 1 on failure.
struct GRPCCall: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpc-call",
        abstract: "Call /echo.Echo/Say on HOST:PORT over h2c and print the answer (JSON: pod, message, metadata)."
    )

    @Argument(help: "The server, HOST:PORT.")
    var address: String

    @Option(name: .customLong("header"), help: "Metadata to send, NAME=VALUE or 'NAME: VALUE' (repeatable).")
    var headers: [String] = []

    @Option(help: "The request's message.")
    var message = "hello"

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 10

    func validate() throws {
        guard endpoint != nil else { throw ValidationError("'\(address)' is not HOST:PORT; give the server as e.g. echo.default:8080") }
        for header in headers where field(header) == nil {
            throw ValidationError("'\(header)' is not NAME=VALUE; write e.g. --header x-user=alice")
        }
    }

    private var endpoint: (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else { return nil }
        let host = address[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host.isEmpty ? nil : (host, port)
    }

    private func field(_ header: String) -> (String, String)? {
        let separator = header.firstIndex(of: "=") ?? header.firstIndex(of: ":")
        guard let separator else { return nil }
        let name = header[..<separator].trimmingCharacters(in: .whitespaces).lowercased()
        return name.isEmpty ? nil : (name, header[header.index(after: separator)...].trimmingCharacters(in: .whitespaces))
    }

    func run() async throws {
        let (host, port) = endpoint!
        var metadata = Metadata()
        for header in headers { if let (name, value) = field(header) { metadata.addString(value, forKey: name) } }
        var options = CallOptions.defaults
        options.timeout = .seconds(timeout)
        do {
            let answer = try await withGRPCClient(
                transport: .http2NIOPosix(target: .dns(host: host, port: port), transportSecurity: .plaintext)
            ) { client in
                try await client.unary(
                    request: ClientRequest(message: EchoRequest(message: message), metadata: metadata),
                    descriptor: MethodDescriptor(fullyQualifiedService: GRPCEcho.service, method: GRPCEcho.method),
                    serializer: JSONMessageCoder<EchoRequest>(), deserializer: JSONMessageCoder<EchoAnswer>(), options: options
                ) { try $0.message }
            }
            print(String(decoding: try EchoAnswer.encoder.encode(answer), as: UTF8.self))
        } catch {
            FileHandle.standardError.write(Data("sandbox-echo grpc-call: /\(GRPCEcho.service)/\(GRPCEcho.method) on \(address) failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
