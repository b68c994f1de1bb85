import Foundation
import NIOCore

/// The JSON an HTTP request is answered with, whichever HTTP version carried it.
enum EchoDescription {
    /// `{"body","env","headers","method","path","pod","query"}` and a newline; repeated header
    /// fields are joined with commas.
    static func json(method: String, target: String, headers: [(name: String, value: String)], body: ByteBuffer) -> ByteBuffer {
        let parts = target.split(separator: "?", maxSplits: 1)
        var fields: [String: String] = [:]
        for (name, value) in headers { fields[name] = fields[name].map { "\($0),\(value)" } ?? value }
        var env: [String: String] = [:]
        for name in EchoEnvironment.echoedVariables { env[name] = EchoEnvironment.variables[name] ?? "" }
        let description: [String: Any] = [
            "method": method, "path": parts.first.map(String.init) ?? "/",
            "query": parts.count > 1 ? String(parts[1]) : "", "headers": fields,
            "body": body.getString(at: body.readerIndex, length: body.readableBytes) ?? "", "pod": EchoEnvironment.podName, "env": env,
        ]
        let json = (try? JSONSerialization.data(withJSONObject: description, options: [.sortedKeys])) ?? Data("{}".utf8)
        var buffer = ByteBuffer()
        buffer.writeBytes(json)
        buffer.writeString("\n")
        return buffer
    }
}
