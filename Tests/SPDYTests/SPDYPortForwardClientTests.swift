import TestSupport
import Testing
@testable import SPDY

@Suite struct SPDYPortForwardClientTests {
    @Test func opensAnErrorStreamHalfClosedThenADataStreamLikeClientGo() throws {
        let client = SPDYPortForwardClient(port: 8080, requestID: 4)
        let frames = client.start()
        guard frames.count == 2, case .synStream(let error) = frames[0], case .synStream(let data) = frames[1] else {
            Issue.record("unexpected \(frames)")
            return
        }
        #expect(error.streamID == 1 && error.fin)
        #expect(error.headers["streamtype"] == "error" && error.headers["port"] == "8080" && error.headers["requestid"] == "4")
        #expect(data.streamID == 3 && !data.fin)
        #expect(data.headers["streamtype"] == "data")
        // Headers survive the wire (lowercased names, as kubelet's spdystream reads them).
        let encoder = try SPDYFrameEncoder()
        let decoder = try SPDYFrameDecoder()
        var bytes: [UInt8] = []
        for frame in frames { try encoder.encode(frame, into: &bytes) }
        #expect(try decoder.decode(bytes) == frames)
    }

    @Test func deliversDataAndReportsTheRemoteFinish() {
        var client = SPDYPortForwardClient(port: 80)
        #expect(client.receive(.synReply(streamID: 1, fin: false, headers: [:])) == [])
        #expect(client.receive(.synReply(streamID: 3, fin: false, headers: [:])) == [])
        #expect(client.receive(.data(streamID: 3, fin: false, payload: Array("hello".utf8))) == [.deliver(Array("hello".utf8))])
        #expect(client.receive(.data(streamID: 3, fin: true, payload: [])) == [.remoteFinished])
        // The error stream ending empty is the clean end of a forwarded connection.
        #expect(client.receive(.data(streamID: 1, fin: true, payload: [])) == [])
        #expect(client.connectionClosed() == nil)
    }

    @Test func errorStreamTextBecomesTheFailureOnceTheStreamEnds() {
        var client = SPDYPortForwardClient(port: 81)
        let text = "error forwarding port 81 to pod web-1: connection refused"
        #expect(client.receive(.data(streamID: 1, fin: false, payload: Array(text.utf8.prefix(10)))) == [])
        #expect(client.receive(.data(streamID: 1, fin: true, payload: Array(text.utf8.dropFirst(10)))) == [.failed(text)])
        // Nothing more once failed.
        #expect(client.receive(.data(streamID: 3, fin: false, payload: [1])) == [])
    }

    @Test func errorTextWithoutAFinIsReportedWhenTheConnectionCloses() {
        var client = SPDYPortForwardClient(port: 81)
        _ = client.receive(.data(streamID: 1, fin: false, payload: Array("boom".utf8)))
        #expect(client.connectionClosed() == "boom")
        #expect(client.connectionClosed() == nil)
    }

    @Test func answersServerPingsAndRefusesServerStreams() {
        var client = SPDYPortForwardClient(port: 80)
        #expect(client.receive(.ping(id: 2)) == [.send([.ping(id: 2)])])
        #expect(client.receive(.ping(id: 1)) == [])
        let syn = SPDYSynStream(streamID: 2, headers: [:])
        #expect(client.receive(.synStream(syn)) == [.send([.rstStream(streamID: 2, status: .refusedStream)])])
        #expect(client.receive(.windowUpdate(streamID: 3, delta: 100)) == [])
        #expect(client.receive(.settings(clearSettings: false, entries: [])) == [])
    }

    @Test func resetAndGoAwayFailTheConnection() {
        var reset = SPDYPortForwardClient(port: 80)
        guard case .failed(let message) = reset.receive(.rstStream(streamID: 3, status: .cancel)).first else {
            Issue.record("a reset must fail the connection")
            return
        }
        #expect(message.contains("reset"))
        var away = SPDYPortForwardClient(port: 80)
        #expect(away.receive(.goAway(lastGoodStreamID: 0, status: .ok)).first.map { if case .failed = $0 { true } else { false } } == true)
    }

    @Test func protocolViolationsAreNamed() {
        var unknown = SPDYPortForwardClient(port: 80)
        #expect(unknown.receive(.data(streamID: 5, fin: false, payload: [1])) == [.violation("DATA for stream 5, which this client never opened")])
        var afterFin = SPDYPortForwardClient(port: 80)
        _ = afterFin.receive(.data(streamID: 3, fin: true, payload: []))
        #expect(afterFin.receive(.data(streamID: 3, fin: false, payload: [1])) == [.violation("DATA after FIN on the data stream")])
        var flood = SPDYPortForwardClient(port: 80)
        guard case .violation = flood.receive(.data(streamID: 1, fin: false, payload: [UInt8](repeating: 65, count: 70_000))).first else {
            Issue.record("a flooded error stream must be a violation")
            return
        }
    }

    @Test func sendSplitsLargeWritesAndFinishHalfCloses() {
        var client = SPDYPortForwardClient(port: 80, maxDataPayload: 1000)
        let frames = client.send([UInt8](repeating: 7, count: 2500))
        #expect(frames.map { if case .data(3, false, let p) = $0 { p.count } else { -1 } } == [1000, 1000, 500])
        #expect(client.send([]) == [])
        #expect(client.finish() == [.data(streamID: 3, fin: true, payload: [])])
        #expect(client.finish() == [])
        #expect(client.send([1]) == [])
    }

    @Test func grantsWindowForWhatItReceived() {
        var client = SPDYPortForwardClient(port: 80)
        var granted = 0
        var delivered = 0
        for _ in 0..<100 {
            for action in client.receive(.data(streamID: 3, fin: false, payload: [UInt8](repeating: 1, count: 4000))) {
                switch action {
                case .deliver(let bytes): delivered += bytes.count
                case .send(let frames):
                    for case .windowUpdate(3, let delta) in frames { granted += Int(delta) }
                default: Issue.record("unexpected \(action)")
                }
            }
        }
        #expect(delivered == 400_000)
        // Everything but the last threshold's worth is granted back.
        #expect(granted > 400_000 - SPDYPortForwardClient.windowUpdateThreshold && granted <= 400_000)
    }

    /// Random frame sequences (a hostile or broken server) never crash the state machine, and
    /// once it reports a failure or violation it stays silent.
    @Test func randomFramesNeverCrashAndFailureIsFinal() {
        var rng = SeededGenerator(seed: 0x5BD7)
        for _ in 0..<2000 {
            var client = SPDYPortForwardClient(port: 80)
            var ended = false
            for _ in 0..<Int.random(in: 1...12, using: &rng) {
                let stream = UInt32([0, 1, 2, 3, 5].randomElement(using: &rng)!)
                let fin = Bool.random(using: &rng)
                let frame: SPDYFrame = switch Int.random(in: 0..<8, using: &rng) {
                case 0: .data(streamID: stream, fin: fin, payload: [UInt8](repeating: 65, count: Int.random(in: 0...40, using: &rng)))
                case 1: .synReply(streamID: stream, fin: fin, headers: [:])
                case 2: .rstStream(streamID: stream, status: .cancel)
                case 3: .ping(id: UInt32.random(in: 0...9, using: &rng))
                case 4: .goAway(lastGoodStreamID: 0, status: .ok)
                case 5: .headers(streamID: stream, fin: fin, headers: [:])
                case 6: .windowUpdate(streamID: stream, delta: 1)
                default: .synStream(SPDYSynStream(streamID: stream, headers: [:]))
                }
                let actions = client.receive(frame)
                if ended { #expect(actions.isEmpty) }
                if actions.contains(where: { if case .failed = $0 { true } else if case .violation = $0 { true } else { false } }) {
                    ended = true
                }
            }
        }
    }
}
