import Foundation
import NIOCore
import Testing

@testable import KubeClient

/// The I/O-free pieces: framing, encoding, backoff, messages.
@Suite struct ProtocolTests {
    @Test func lineSplitterHandlesAnyChunkBoundary() {
        let text = "{\"a\":1}\n{\"b\":2}\r\n\n{\"c\":3}\n"
        for cut in 0...text.utf8.count {
            for secondCut in cut...text.utf8.count {
                var splitter = LineSplitter()
                let bytes = Array(text.utf8)
                var lines: [String] = []
                for range in [0..<cut, cut..<secondCut, secondCut..<bytes.count] {
                    lines += splitter.append(ByteBuffer(bytes: bytes[range])).map { String(buffer: $0) }
                }
                #expect(lines == ["{\"a\":1}", "{\"b\":2}", "", "{\"c\":3}"])
                #expect(splitter.finish() == nil)
            }
        }
    }

    @Test func lineSplitterKeepsAnUnterminatedTail() {
        var splitter = LineSplitter()
        #expect(splitter.append(ByteBuffer(string: "one\ntw")).map { String(buffer: $0) } == ["one"])
        #expect(splitter.finish().map { String(buffer: $0) } == "tw")
    }

    @Test func portForwardProtocolChecksAndConsumesThePortHeaders() {
        var state = PortForwardProtocol(port: 8080)
        var header = ByteBuffer()
        header.writeInteger(UInt16(8080), endianness: .little)
        #expect(state.receive(ChannelMessage(channel: 0, payload: header)) == .none)
        #expect(state.receive(ChannelMessage(channel: 1, payload: header)) == .none)
        #expect(state.receive(ChannelMessage(channel: 0, payload: ByteBuffer(string: "data"))) == .deliver(ByteBuffer(string: "data")))
        #expect(state.receive(ChannelMessage(channel: 1, payload: ByteBuffer(string: "boom"))) == .error("boom"))
        #expect(state.receive(ChannelMessage(channel: 7, payload: ByteBuffer())) == .violation("port-forward message on unknown channel 7"))

        var wrongPort = PortForwardProtocol(port: 80)
        guard case .violation = wrongPort.receive(ChannelMessage(channel: 0, payload: header)) else {
            Issue.record("a wrong port must be a violation")
            return
        }
        var short = PortForwardProtocol(port: 80)
        guard case .violation = short.receive(ChannelMessage(channel: 0, payload: ByteBuffer(bytes: [1]))) else {
            Issue.record("a short header must be a violation")
            return
        }
    }

    @Test func queryEncodingEscapesEverythingButUnreserved() {
        #expect(QueryEncoding.escape("a-b_c.d~e") == "a-b_c.d~e")
        #expect(QueryEncoding.escape("app in (a,b)") == "app%20in%20%28a%2Cb%29")
        #expect(QueryEncoding.escape("x=y&z/ü") == "x%3Dy%26z%2F%C3%BC")
        #expect(QueryEncoding.encode([("labelSelector", "a=b"), ("limit", "5")]) == "labelSelector=a%3Db&limit=5")
    }

    @Test func backoffDoublesCapsAndJitters() {
        let backoff = ExponentialBackoff(initial: .milliseconds(100), maximum: .seconds(1))
        #expect(backoff.delay(afterFailures: 1, jitter: 1) == .milliseconds(100))
        #expect(backoff.delay(afterFailures: 3, jitter: 1) == .milliseconds(400))
        #expect(backoff.delay(afterFailures: 10, jitter: 1) == .seconds(1))
        #expect(backoff.delay(afterFailures: 2, jitter: 0.5) == .milliseconds(100))
        let random = backoff.delay(afterFailures: 2)
        #expect(random >= .milliseconds(100) && random <= .milliseconds(200))
    }

    @Test func execExitCodeComesFromTheStatusChannel() throws {
        let context = KubeError.RequestContext(method: "GET", path: "/x", server: "https://h:6443")
        #expect(try ExecProtocol.exitCode(statusJSON: #"{"metadata":{},"status":"Success"}"#, pod: "p", request: context) == 0)
        #expect(try ExecProtocol.exitCode(statusJSON: nil, pod: "p", request: context) == 0)
        let failure = #"{"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"42"}]}}"#
        #expect(try ExecProtocol.exitCode(statusJSON: failure, pod: "p", request: context) == 42)
        let internalError = #"{"status":"Failure","reason":"InternalError","message":"container not found (\"app\")","code":500}"#
        #expect(throws: KubeError.self) { try ExecProtocol.exitCode(statusJSON: internalError, pod: "p", request: context) }
    }

    @Test func resourcePathsCoverCoreGroupsAndClusterScope() {
        #expect(ResourceDescriptor.pods.path(namespace: "ns", name: "p", subresource: "log") == "/api/v1/namespaces/ns/pods/p/log")
        #expect(ResourceDescriptor.deployments.path(namespace: "ns") == "/apis/apps/v1/namespaces/ns/deployments")
        #expect(ResourceDescriptor.pods.path(namespace: nil) == "/api/v1/pods")
        #expect(ResourceDescriptor.nodes.path(namespace: "ignored", name: "n1") == "/api/v1/nodes/n1")
        #expect(ResourceDescriptor.mutatingWebhookConfigurations.path(namespace: nil)
                == "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations")
        #expect(ResourceDescriptor.deployments.description == "deployments.apps")
    }
}
