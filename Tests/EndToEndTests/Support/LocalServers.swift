import Foundation
import Testing
import TestSupport

/// The servers a developer runs on their workstation for an engagement to reach, each started
/// in that workstation's namespace and waited for until it listens.
extension Workstation {
    /// The echo app (HTTP, h2c and gRPC on `port`, TCP echo on `tcpPort`), answering as pod `pod`.
    func startEcho(as pod: String, port: Int, tcpPort: Int? = nil) async throws -> ProcessRunner.Background {
        let server = try start([
            "env", "POD_NAME=\(pod)", "HTTP_PORT=\(port)", "TCP_PORT=\(tcpPort ?? port + 1)", "UDP_PORT=\(tcpPort ?? port + 1)",
            CommandRunner.executable("sandbox-echo").path,
        ])
        try await waitForListener(port, server)
        return server
    }

    /// An HTTP server on `port` that answers as pod `pod` and prints "PATH USER" for each
    /// request it gets (``recorded(_:)`` reads them): what a wiretap's workstation was sent.
    func startRecorder(as pod: String, port: Int) async throws -> ProcessRunner.Background {
        let server = try start(["python3", Self.netprobe, "httprecorder", String(port), pod], captureOutput: true)
        try await waitForListener(port, server)
        return server
    }

    /// A server on `port` that accepts connections and never reads: a workstation that stopped.
    func startStalledServer(port: Int) async throws -> ProcessRunner.Background {
        let server = try start(["python3", Self.netprobe, "stalledserver", String(port)])
        try await waitForListener(port, server)
        return server
    }

    private func waitForListener(_ port: Int, _ server: ProcessRunner.Background) async throws {
        try await waitUntil("a local server to listen on port \(port) in \(namespace)", timeout: .seconds(20), pollingEvery: .milliseconds(50)) {
            guard server.isRunning else { throw LocalServerEnded(port: port) }
            return try await run(["ss", "-ltnH"]).stdout.contains(":\(port) ")
        }
    }

    struct LocalServerEnded: Error, CustomStringConvertible {
        var port: Int
        var description: String { "the local server for port \(port) ended before it listened; run it by hand in the workstation to see why" }
    }
}

extension ProcessRunner.Background {
    /// The requests an ``Workstation/startRecorder(as:port:)`` server got, as (path, user).
    var recorded: [(path: String, user: String)] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            return fields.count == 2 ? (String(fields[0]), String(fields[1])) : nil
        }
    }
}

/// What `netprobe.py http` reports: who answered each request of one keep-alive connection.
struct HTTPExchange {
    struct Answer {
        var pod: String
        var path: String
        var milliseconds: Double
    }

    var answers: [Answer]
    var connections: Int

    init(_ output: String) {
        answers = []
        connections = 0
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count == 2, fields[0] == "connections" {
                connections = Int(fields[1]) ?? 0
            } else if fields.count == 3 {
                answers.append(Answer(pod: fields[0], path: fields[1], milliseconds: Double(fields[2]) ?? .infinity))
            }
        }
    }

    /// Each answer's pod, with an app pod's name cut to `app` (its pods' names vary).
    func origins(app: String) -> [String] {
        answers.map { $0.pod.hasPrefix(app + "-") ? app : $0.pod }
    }
}

extension Workstation {
    /// Requests from the cluster's client pod to `host:port`, all on one keep-alive HTTP/1.1
    /// connection: each spec is PATH or PATH@USER (an `X-User` header), with a body of
    /// `bodyBytes` (POST) when not zero.
    func keepAliveRequests(_ host: String, port: Int = 80, bodyBytes: Int = 0, _ specs: [String]) async throws -> HTTPExchange {
        let result = try await run(
            ["kubectl", "exec", "client", "--", "python3", Self.netprobe, "http", host, String(port), String(bodyBytes)] + specs,
            timeout: .seconds(120))
        #expect(result.status == 0, "\(result.combined)")
        return HTTPExchange(result.stdout)
    }
}
