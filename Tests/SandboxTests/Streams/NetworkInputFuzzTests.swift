import Foundation
import KubeClient
import NIOCore
import NIOWebSocket
import Sandbox
@testable import SandboxAPIMachinery
@testable import SandboxAPIServer
@testable import SandboxNetwork
@testable import SandboxNode
import Testing
import TestSupport

/// Patches and WebSocket frames are network input: no input may crash the server, and every
/// rejection must say what was wrong. (Webhook answers are fuzzed with their codec, in
/// KubeClientTests' AdmissionReviewTests.)
@Suite("Streams: parsers of network input (property and fuzz tests)")
struct NetworkInputFuzzTests {
    @Test("random JSON patches against a pod fail with API errors, never a crash")
    func randomPatches() {
        var random = SeededGenerator(seed: 0xBADC_0FFE)
        let pod: JSONValue = ["metadata": ["name": "p", "labels": ["a": "b"]], "spec": ["containers": [["name": "c"]]]]
        let ops = ["add", "remove", "replace", "move", "copy", "test", "bogus"]
        let paths = ["/spec/containers/-", "/spec/containers/0", "/spec/containers/9", "/metadata/labels/a", "", "/", "/x/y/z", "/spec/containers/-1", "~1", "/metadata/labels/~2"]
        for _ in 0..<2000 {
            let operations: JSONValue = .array((0..<Int.random(in: 0...3, using: &random)).map { _ in
                var op: JSONValue = ["op": .string(ops.randomElement(using: &random)!), "path": .string(paths.randomElement(using: &random)!)]
                if Bool.random(using: &random) { op["value"] = ["name": "x"] }
                if Bool.random(using: &random) { op["from"] = .string(paths.randomElement(using: &random)!) }
                return op
            })
            do { _ = try Machinery.jsonPatch(operations, to: pod) } catch { #expect(!error.message.isEmpty) }
        }
    }

    @Test("fragmented channel messages keep their channel; bad fragment order is a violation")
    func channelReader() {
        var reader = ChannelMessageReader()
        #expect(reader.receive(opcode: .binary, fin: false, payload: ByteBuffer(bytes: [0, 1, 2])) == .data(channel: 0, ByteBuffer(bytes: [1, 2])))
        #expect(reader.receive(opcode: .continuation, fin: false, payload: ByteBuffer(bytes: [3])) == .data(channel: 0, ByteBuffer(bytes: [3])))
        #expect(reader.receive(opcode: .continuation, fin: true, payload: ByteBuffer(bytes: [4])) == .data(channel: 0, ByteBuffer(bytes: [4])))
        #expect(reader.receive(opcode: .binary, fin: true, payload: ByteBuffer(bytes: [255, 0])) == .data(channel: 255, ByteBuffer(bytes: [0])))
        // An empty first fragment: the channel comes with the next one.
        #expect(reader.receive(opcode: .binary, fin: false, payload: ByteBuffer()) == nil)
        #expect(reader.receive(opcode: .continuation, fin: true, payload: ByteBuffer(bytes: [2, 9])) == .data(channel: 2, ByteBuffer(bytes: [9])))
        if case .violation = reader.receive(opcode: .continuation, fin: true, payload: ByteBuffer(bytes: [1])) {} else {
            Issue.record("a continuation outside a message was accepted")
        }
        var random = SeededGenerator(seed: 42)
        let opcodes: [WebSocketOpcode] = [.binary, .text, .continuation, .ping, .pong, .connectionClose]
        for _ in 0..<5000 {
            let bytes = (0..<Int.random(in: 0...4, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            _ = reader.receive(opcode: opcodes.randomElement(using: &random)!, fin: Bool.random(using: &random), payload: ByteBuffer(bytes: bytes))
        }
    }

    @Test("subprotocol choice follows the client's order; none offered means the protocol's oldest form")
    func negotiation() {
        #expect(ChannelProtocol.choose(offered: ["v5.channel.k8s.io", "v4.channel.k8s.io"], supported: ["v4.channel.k8s.io", "v5.channel.k8s.io"]) == .some("v5.channel.k8s.io"))
        #expect(ChannelProtocol.choose(offered: [], supported: ["v4.channel.k8s.io"]) == .some(nil))
        #expect(ChannelProtocol.choose(offered: ["SPDY/3.1+portforward.k8s.io"], supported: ["v4.channel.k8s.io"]) == nil)
        #expect(StreamUpgradeHandler.acceptValue(key: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}
