import Foundation
import KubeClient
import NIOCore
import NIOWebSocket
@testable import Sandbox
import Testing
import TestSupport

/// Webhook answers and WebSocket frames are network input: no input may crash the server, and
/// every rejection must say what was wrong.
@Suite("Streams: parsers of network input (property and fuzz tests)")
struct AdmissionReviewFuzzTests {
    static let uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    static let valid = #"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL21ldGFkYXRhL2xhYmVscy94IiwidmFsdWUiOiJ5In1d"}}"#

    @Test("a valid answer parses; its patch applies")
    func validAnswer() throws {
        let response = try AdmissionReview.parse(Array(Self.valid.utf8), uid: Self.uid)
        #expect(response.allowed)
        let pod: JSONValue = ["metadata": ["name": "p", "labels": [:]]]
        let patched = try Machinery.jsonPatch(try #require(response.patch), to: pod)
        #expect(patched["metadata"]?["labels"]?["x"]?.stringValue == "y")
    }

    @Test("known-bad answers get their own clear error")
    func knownBad() {
        func error(_ text: String, uid: String = AdmissionReviewFuzzTests.uid) -> Sandbox.AdmissionReviewError? {
            do { _ = try AdmissionReview.parse(Array(text.utf8), uid: uid); return nil } catch { return error }
        }
        #expect(error(#"{"apiVersion":"v1","kind":"Status"}"#) == .wrongKind(apiVersion: "v1", kind: "Status"))
        #expect(error(#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#) == .missingResponse)
        #expect(error(Self.valid, uid: "other") == .uidMismatch(expected: "other", got: Self.uid))
        #expect(error(Self.valid.replacingOccurrences(of: "JSONPatch", with: "MergePatch")) == .patchType("MergePatch"))
        #expect(error(Self.valid.replacingOccurrences(of: "W3sib3", with: "!!!!")) == .patchNotBase64)
        #expect(error(Self.valid.replacingOccurrences(of: #""allowed":true,"#, with: "")) == .missingAllowed)
        #expect(error("") != nil)
    }

    @Test("random bytes, truncations and mutations of a valid answer never crash and always explain themselves")
    func fuzz() {
        var random = SeededGenerator(seed: 0x5EED_AD41)
        let valid = Array(Self.valid.utf8)
        var rejected = 0
        for round in 0..<3000 {
            var input: [UInt8]
            switch round % 3 {
            case 0: input = Array(valid.prefix(Int.random(in: 0...valid.count, using: &random)))
            case 1:
                input = valid
                for _ in 0..<Int.random(in: 1...6, using: &random) {
                    input[Int.random(in: 0..<input.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
            default: input = (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            }
            do {
                let response = try AdmissionReview.parse(input, uid: Self.uid)
                if let patch = response.patch {
                    // A parsed patch may still not apply; that is an APIError, never a crash.
                    _ = try? Machinery.jsonPatch(patch, to: ["metadata": ["name": "p"]])
                }
            } catch {
                rejected += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(rejected > 1000)
    }

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
