import Foundation
import NIOCore

/// What a command run in a container printed and how it ended.
public struct ExecResult: Sendable, Hashable {
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    /// 0 on success, the command's exit code otherwise.
    public var exitCode: Int

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Channel numbers and status decoding of the exec channel protocol. No I/O.
enum ExecProtocol {
    static let stdin: UInt8 = 0
    static let stdout: UInt8 = 1
    static let stderr: UInt8 = 2
    static let status: UInt8 = 3
    static let resize: UInt8 = 4

    /// The exit code from the status channel's `Status` (`nil` text means none was sent, which
    /// the API treats as success).
    static func exitCode(statusJSON: String?, pod: String, request: KubeError.RequestContext) throws -> Int {
        guard let statusJSON, !statusJSON.isEmpty else { return 0 }
        let status: Status
        do {
            status = try JSONDecoder().decode(Status.self, from: Data(statusJSON.utf8))
        } catch {
            throw KubeError.streamProtocolViolation("the exec status of pod \(pod) is not a Status: \(statusJSON.prefix(200))")
        }
        if status.status == "Success" { return 0 }
        if status.reason == "NonZeroExitCode",
           let cause = status.details?.causes?.first(where: { $0.reason == "ExitCode" }) ?? status.details?.causes?.first,
           let code = cause.message.flatMap({ Int($0) }) {
            return code
        }
        throw KubeError.api(status, request)
    }
}

extension KubeClient {
    /// Runs a command in a container and waits for it to end (`pods/exec`, WebSocket
    /// `v5.channel.k8s.io`, falling back to `v4.channel.k8s.io`). `stdin`, when given, is sent
    /// and then closed (v5; under v4 the server cannot see the end of stdin).
    public func exec(
        pod: String, namespace: String? = nil, container: String? = nil, command: [String], stdin: [UInt8]? = nil
    ) async throws -> ExecResult {
        guard !command.isEmpty else { throw KubeError.invalidArgument("exec needs a command to run") }
        let ns = try objectNamespace(.pods, namespace)
        var query: [(name: String, value: String)] = command.map { ("command", $0) }
        if let container { query.append(("container", container)) }
        query.append(("stdin", stdin == nil ? "false" : "true"))
        query.append(("stdout", "true"))
        query.append(("stderr", "true"))
        query.append(("tty", "false"))
        let request = APIRequest(
            method: .GET, path: ResourceDescriptor.pods.path(namespace: ns, name: pod, subresource: "exec"),
            query: query, namespace: ns)
        let upgraded = try await UpgradeDialer(transport: transport)
            .open(request, subprotocols: ["v5.channel.k8s.io", "v4.channel.k8s.io"]) { channel, _ in
                let (bridge, sequence) = AsyncInboundBridge<ChannelMessage>.make(eventLoop: channel.eventLoop)
                try channel.pipeline.syncOperations.addHandler(bridge)
                return sequence
            }
        let channel = upgraded.channel
        let messages = upgraded.configured
        return try await withTaskCancellationHandler {
            if let stdin {
                var offset = 0
                repeat {
                    let end = min(offset + 32768, stdin.count)
                    let chunk = ByteBuffer(bytes: stdin[offset..<end])
                    try await channel.writeAndFlush(ChannelMessage(channel: ExecProtocol.stdin, payload: chunk)).get()
                    offset = end
                } while offset < stdin.count
                if upgraded.subprotocol == "v5.channel.k8s.io" {
                    try await channel.writeAndFlush(ChannelMessage.close(channel: ExecProtocol.stdin)).get()
                }
            }
            var stdout: [UInt8] = []
            var stderr: [UInt8] = []
            var statusJSON: String?
            do {
                for try await message in messages {
                    switch message.channel {
                    case ExecProtocol.stdout: stdout += message.payload.readableBytesView
                    case ExecProtocol.stderr: stderr += message.payload.readableBytesView
                    case ExecProtocol.status: statusJSON = (statusJSON ?? "") + String(buffer: message.payload)
                    default: break
                    }
                }
            } catch {
                channel.close(promise: nil)
                throw transport.mapError(error)
            }
            channel.close(promise: nil)
            let context = KubeError.RequestContext(
                method: "GET", path: transport.uri(request), server: configuration.server.description,
                namespace: ns, contextName: configuration.contextName)
            let code = try ExecProtocol.exitCode(statusJSON: statusJSON, pod: pod, request: context)
            return ExecResult(stdout: stdout, stderr: stderr, exitCode: code)
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}
