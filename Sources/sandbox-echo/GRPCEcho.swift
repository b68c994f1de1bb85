import Foundation
import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The gRPC side of the echo: unary `/echo.Echo/Say`, whose messages are JSON (`EchoRequest`,
/// `EchoAnswer`), served by hand on the HTTP port's HTTP/2 streams (the port also speaks
/// HTTP/1.1, so grpc-swift's server, which owns its listener, cannot serve it).
enum GRPCEcho {
    static let service = "echo.Echo"
    static let method = "Say"

    /// The frames that answer a gRPC request on `path` (length-prefixed messages in `body`).
    static func answer(path: String, headers: HPACKHeaders, body: ByteBuffer) -> [HTTP2Frame.FramePayload] {
        guard path == "/\(service)/\(method)" else {
            return trailersOnly(status: .unimplemented, message: "the echo app serves only /\(service)/\(method)")
        }
        var messages = body
        guard let flag = messages.readInteger(as: UInt8.self), let length = messages.readInteger(as: UInt32.self),
              let bytes = messages.readBytes(length: Int(length)) else {
            return trailersOnly(status: .invalidArgument, message: "send exactly one length-prefixed message")
        }
        guard flag == 0 else { return trailersOnly(status: .unimplemented, message: "send the message uncompressed") }
        let request = (try? JSONDecoder().decode(EchoRequest.self, from: Data(bytes))) ?? EchoRequest(message: "")
        var metadata: [String: String] = [:]
        let transport: Set<String> = ["content-type", "te", "user-agent", "grpc-accept-encoding", "grpc-encoding", "grpc-timeout", "accept-encoding"]
        for (name, value, _) in headers where !name.hasPrefix(":") && !transport.contains(name) {
            metadata[name] = metadata[name].map { "\($0),\(value)" } ?? value
        }
        let answer = EchoAnswer(pod: EchoEnvironment.podName, message: request.message, metadata: metadata)
        let json = (try? EchoAnswer.encoder.encode(answer)) ?? Data("{}".utf8)
        var framed = ByteBuffer()
        framed.writeInteger(UInt8(0))
        framed.writeInteger(UInt32(json.count))
        framed.writeBytes(json)
        return [
            .headers(.init(headers: HPACKHeaders([(":status", "200"), ("content-type", "application/grpc")]))),
            .data(.init(data: .byteBuffer(framed))),
            .headers(.init(headers: HPACKHeaders([("grpc-status", "0")]), endStream: true)),
        ]
    }

    private static func trailersOnly(status: RPCError.Code, message: String) -> [HTTP2Frame.FramePayload] {
        let headers = HPACKHeaders([
            (":status", "200"), ("content-type", "application/grpc"), ("grpc-status", String(status.rawValue)), ("grpc-message", message),
        ])
        return [.headers(.init(headers: headers, endStream: true))]
    }
}

/// What `grpc-call` sends.
struct EchoRequest: Codable, Sendable {
    var message: String
}

/// What /echo.Echo/Say answers: the pod that answered, the message, the request's metadata.
struct EchoAnswer: Codable, Sendable {
    var pod: String
    var message: String
    var metadata: [String: String]

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

/// grpc-swift's coder for the echo's JSON messages.
struct JSONMessageCoder<Message: Codable & Sendable>: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: Message) throws -> Bytes {
        Bytes(try EchoAnswer.encoder.encode(message))
    }

    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> Message {
        try serializedMessageBytes.withUnsafeBytes { try JSONDecoder().decode(Message.self, from: Data($0)) }
    }
}
