import NIOCore
import Testing
@testable import Tunnel

/// Scripted frame exchanges between two state machines, no sockets.
@Suite("Tunnel connection state machine")
struct TunnelConnectionStateMachineTests {
    let flow = TunnelFrameCodecTests.flow4

    func config(streamWindow: UInt32 = 1 << 20, connectionWindow: UInt32 = 1 << 24) -> TunnelConfiguration {
        var c = TunnelConfiguration()
        c.streamWindow = streamWindow
        c.connectionWindow = connectionWindow
        c.maxFrameSize = 1 << 20
        return c
    }

    /// Moves every queued frame from `from` to `to` (through the codec, as on the wire).
    @discardableResult
    func pump(_ from: inout TunnelConnectionStateMachine, _ to: inout TunnelConnectionStateMachine) throws -> [TunnelEvent] {
        var wire = ByteBuffer()
        while let frame = from.nextOutboundFrame() { TunnelFrameEncoder.encode(frame, into: &wire) }
        var events: [TunnelEvent] = []
        let decoder = TunnelFrameDecoder(maxFrameSize: to.configuration.maxFrameSize)
        while let frame = try decoder.next(from: &wire) {
            if let event = try to.receive(frame) { events.append(event) }
        }
        return events
    }

    func connected(_ a: TunnelConfiguration? = nil, _ b: TunnelConfiguration? = nil) throws
        -> (TunnelConnectionStateMachine, TunnelConnectionStateMachine) {
        var client = TunnelConnectionStateMachine(role: .initiator, configuration: a ?? config())
        var server = TunnelConnectionStateMachine(role: .responder, configuration: b ?? config())
        let s = try pump(&client, &server)
        let c = try pump(&server, &client)
        guard case .ready = s.first, case .ready = c.first else { throw TestFailure("no handshake") }
        return (client, server)
    }

    func dataBytes(_ events: [TunnelEvent]) -> Int {
        events.reduce(0) { sum, e in if case .data(_, let b) = e { sum + b.readableBytes } else { sum } }
    }

    @Test("HELLO goes first and both sides become ready")
    func handshake() throws {
        var client = TunnelConnectionStateMachine(role: .initiator, configuration: config())
        guard case .hello(let hello) = client.nextOutboundFrame() else { Issue.record("no HELLO first"); return }
        #expect(hello.version == TunnelWire.version)
        #expect(hello.connectionWindow == 1 << 24)
        _ = try connected()
    }

    @Test("OPEN carries the first bytes; OPEN_OK opens the stream")
    func openWithData() throws {
        var (client, server) = try connected()
        let id = try client.openStream(flow: flow, initialData: ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        #expect(id == 1)
        let events = try pump(&client, &server)
        guard case .openRequested(1, let open) = events.first else { Issue.record("got \(events)"); return }
        #expect(open.flow == flow)
        #expect(String(buffer: open.initialData) == "GET / HTTP/1.1\r\n\r\n")
        try server.accept(1)
        #expect(try pump(&server, &client) == [.opened(1)])
        // Bytes written before OPEN_OK wait; after it they flow.
        let second = try client.openStream(flow: flow)
        try client.send(ByteBuffer(string: "early"), on: second)
        _ = try pump(&client, &server)
        try server.accept(second)
        let opened = try pump(&server, &client)
        #expect(opened == [.opened(second)])
        #expect(try pump(&client, &server) == [.data(second, ByteBuffer(string: "early"))])
    }

    @Test("OPEN_FAILED ends the stream with the reason")
    func openFailed() throws {
        var (client, server) = try connected()
        let id = try client.openStream(flow: flow, initialData: ByteBuffer(string: "x"))
        _ = try pump(&client, &server)
        try server.reject(id, reason: .refused, message: "connection refused")
        #expect(try pump(&server, &client) == [.openFailed(id, .refused, "connection refused")])
        #expect(client.nextClosedStream() == id)
        #expect(!client.contains(id))
        #expect(throws: TunnelStreamError.noSuchStream(id)) { try client.send(ByteBuffer(string: "y"), on: id) }
    }

    @Test("an exhausted window blocks sending until WINDOW_UPDATE resumes it")
    func windowExhaustion() throws {
        let small = config(streamWindow: 16_384)
        var (client, server) = try connected(small, small)
        let id = try client.openStream(flow: flow)
        _ = try pump(&client, &server)
        try server.accept(id)
        _ = try pump(&server, &client)
        try client.send(ByteBuffer(bytes: Array(repeating: 1, count: 40_000)), on: id)
        var received = try pump(&client, &server)
        #expect(dataBytes(received) == 16_384)
        #expect(client.pendingBytes(id) == 40_000 - 16_384)
        #expect(client.sendWindow(id) == 0)
        // Nothing more leaves until the receiver returns credit.
        #expect(try pump(&client, &server).isEmpty)
        server.consumed(16_384, on: id)
        let updates = try pump(&server, &client)
        #expect(updates.contains(.windowOpened(id)))
        received = try pump(&client, &server)
        #expect(dataBytes(received) == 16_384)
        server.consumed(16_384, on: id)
        _ = try pump(&server, &client)
        received = try pump(&client, &server)
        #expect(dataBytes(received) == 40_000 - 2 * 16_384)
        #expect(client.pendingBytes(id) == 0)
    }

    @Test("the connection window limits all streams together")
    func connectionWindow() throws {
        let c = config(streamWindow: 1 << 20, connectionWindow: 65_536)
        var (client, server) = try connected(c, c)
        let a = try client.openStream(flow: flow)
        let b = try client.openStream(flow: flow)
        _ = try pump(&client, &server)
        try server.accept(a)
        try server.accept(b)
        _ = try pump(&server, &client)
        try client.send(ByteBuffer(bytes: Array(repeating: 1, count: 50_000)), on: a)
        try client.send(ByteBuffer(bytes: Array(repeating: 2, count: 50_000)), on: b)
        #expect(dataBytes(try pump(&client, &server)) == 65_536)
        server.consumed(50_000, on: a)
        _ = try pump(&server, &client)
        #expect(dataBytes(try pump(&client, &server)) == 100_000 - 65_536)
    }

    @Test("half-close in both directions, then the stream is closed")
    func halfClose() throws {
        var (client, server) = try connected()
        let id = try client.openStream(flow: flow, initialData: ByteBuffer(string: "request"), fin: true)
        let open = try pump(&client, &server)
        guard case .openRequested(_, let o) = open.first else { Issue.record("\(open)"); return }
        #expect(o.fin)
        try server.accept(id)
        try server.send(ByteBuffer(string: "response"), on: id)
        try server.finish(id)
        #expect(try pump(&server, &client) == [.opened(id), .data(id, ByteBuffer(string: "response")), .remoteFinished(id)])
        #expect(client.nextClosedStream() == id)
        #expect(server.nextClosedStream() == id)
        #expect(client.streamCount == 0 && server.streamCount == 0)
    }

    @Test("FIN waits behind queued bytes; writing after FIN is refused")
    func finAfterQueuedData() throws {
        let small = config(streamWindow: 16_384)
        var (client, server) = try connected(small, small)
        let id = try client.openStream(flow: flow)
        _ = try pump(&client, &server)
        try server.accept(id)
        _ = try pump(&server, &client)
        try client.send(ByteBuffer(bytes: Array(repeating: 1, count: 20_000)), on: id)
        try client.finish(id)
        #expect(throws: TunnelStreamError.sendClosed(id)) { try client.send(ByteBuffer(string: "x"), on: id) }
        let first = try pump(&client, &server)
        #expect(!first.contains(.remoteFinished(id)))
        server.consumed(16_384, on: id)
        _ = try pump(&server, &client)
        let rest = try pump(&client, &server)
        #expect(rest.last == .remoteFinished(id))
    }

    @Test("RST ends the stream; late frames for it are dropped and credit returned")
    func reset() throws {
        let c = config(streamWindow: 1 << 20, connectionWindow: 65_536)
        var (client, server) = try connected(c, c)
        let id = try client.openStream(flow: flow)
        _ = try pump(&client, &server)
        try server.accept(id)
        _ = try pump(&server, &client)
        try server.send(ByteBuffer(bytes: Array(repeating: 0, count: 40_000)), on: id)
        client.reset(id, reason: .cancelled)
        // The server's DATA crosses the RST on the wire: the client drops it without error.
        #expect(try pump(&server, &client).isEmpty)
        // The RST arrives, and the dropped bytes' connection credit comes back (40,000 >= 65,536 / 4).
        #expect(try pump(&client, &server) == [.reset(id, .cancelled), .windowOpened(0)])
        #expect(server.nextClosedStream() == id)
    }

    @Test("frames for a stream that was never opened end the connection")
    func unknownStream() throws {
        var (_, server) = try connected()
        #expect(throws: TunnelProtocolError.unknownStream(99)) { try server.receive(.data(stream: 99, ByteBuffer(string: "x"))) }
        #expect(throws: TunnelProtocolError.unknownStream(4)) { try server.receive(.windowUpdate(stream: 4, increment: 1)) }
        // An OPEN with the responder's parity, or not above the last one, is invalid.
        #expect(throws: TunnelProtocolError.invalidStreamID(2)) {
            try server.receive(.open(stream: 2, TunnelOpen(flow: flow, window: 1)))
        }
    }

    @Test("sending beyond the granted window is a flow-control violation")
    func flowControlViolation() throws {
        let small = config(streamWindow: 16_384)
        var (client, server) = try connected(small, small)
        let id = try client.openStream(flow: flow)
        _ = try pump(&client, &server)
        // DATA before OPEN_OK: the opener has no window yet.
        #expect(throws: TunnelProtocolError.flowControlViolation(id)) { try server.receive(.data(stream: id, ByteBuffer(string: "x"))) }
        var (c2, s2) = try connected(small, small)
        let id2 = try c2.openStream(flow: flow)
        _ = try pump(&c2, &s2)
        try s2.accept(id2)
        _ = try s2.receive(.data(stream: id2, ByteBuffer(bytes: Array(repeating: 0, count: 16_384))))
        #expect(throws: TunnelProtocolError.flowControlViolation(id2)) { try s2.receive(.data(stream: id2, ByteBuffer(string: "x"))) }
    }

    @Test("a window update past 2^31-1 is an overflow")
    func windowOverflow() throws {
        var (client, server) = try connected()
        let id = try client.openStream(flow: flow)
        _ = try pump(&client, &server)
        try server.accept(id)
        _ = try pump(&server, &client)
        #expect(throws: TunnelProtocolError.windowOverflow(id)) {
            try client.receive(.windowUpdate(stream: id, increment: UInt32(Int32.max)))
        }
        #expect(throws: TunnelProtocolError.windowOverflow(0)) {
            try client.receive(.windowUpdate(stream: 0, increment: UInt32(Int32.max)))
        }
    }

    @Test("DATA after FIN is refused")
    func dataAfterFin() throws {
        var (client, server) = try connected()
        let id = try client.openStream(flow: flow, fin: true)
        _ = try pump(&client, &server)
        try server.accept(id)
        #expect(throws: TunnelProtocolError.unexpectedFrame(stream: id, frame: "DATA")) {
            try server.receive(.data(stream: id, ByteBuffer(string: "late")))
        }
    }

    @Test("GOAWAY: streams above the last id are abandoned, no new streams either way")
    func goAway() throws {
        var (client, server) = try connected()
        let first = try client.openStream(flow: flow)
        _ = try pump(&client, &server)
        server.goAway(code: .noError, message: "shutting down")
        let second = try client.openStream(flow: flow)  // crosses the GOAWAY on the wire
        let events = try pump(&server, &client)
        #expect(events == [.goingAway(lastStreamID: first, code: .noError, message: "shutting down", abandoned: [second])])
        #expect(client.contains(first))
        #expect(throws: TunnelStreamError.goingAway) { try client.openStream(flow: flow) }
        // The server refuses the OPEN it receives after its GOAWAY.
        #expect(try pump(&client, &server).isEmpty)
        guard case .openFailed(second, .prohibited, _) = server.nextOutboundFrame() else { Issue.record("no OPEN_FAILED"); return }
    }

    @Test("the handshake rejects non-tunnels, other versions and a second HELLO")
    func handshakeErrors() throws {
        var a = TunnelConnectionStateMachine(role: .responder)
        #expect(throws: TunnelProtocolError.notATunnel) { try a.receive(.ping(1)) }
        var b = TunnelConnectionStateMachine(role: .responder)
        #expect(throws: TunnelProtocolError.unsupportedVersion(2)) {
            try b.receive(.hello(TunnelHello(version: 2, maxFrameSize: 1 << 20, connectionWindow: 1 << 20)))
        }
        var (_, server) = try connected()
        #expect(throws: TunnelProtocolError.duplicateHello) {
            try server.receive(.hello(TunnelHello(maxFrameSize: 1 << 20, connectionWindow: 1 << 20)))
        }
        #expect(TunnelProtocolError.unsupportedVersion(2).goAwayCode == .unsupportedVersion)
    }

    @Test("ids alternate by role and PING is answered with PONG")
    func idsAndPing() throws {
        var (client, server) = try connected()
        #expect(try client.openStream(flow: flow) == 1)
        #expect(try client.openStream(flow: flow) == 3)
        #expect(try server.openStream(flow: flow) == 2)
        _ = try pump(&client, &server)
        _ = try pump(&server, &client)
        client.ping(77)
        _ = try pump(&client, &server)
        #expect(try pump(&server, &client) == [.pong(77)])
    }

    @Test("UDP streams carry datagrams whole and drop what the window cannot take")
    func datagrams() throws {
        let small = config(streamWindow: 16_384)
        var (client, server) = try connected(small, small)
        let udp = TunnelFrameCodecTests.flow6
        let id = try client.openStream(flow: udp, initialData: ByteBuffer(string: "query"))
        _ = try pump(&client, &server)
        try server.accept(id)
        _ = try pump(&server, &client)
        #expect(try client.sendDatagram(ByteBuffer(bytes: Array(repeating: 1, count: 10_000)), on: id))
        #expect(try !client.sendDatagram(ByteBuffer(bytes: Array(repeating: 2, count: 10_000)), on: id))
        #expect(throws: TunnelStreamError.wrongTransport(id)) { try client.send(ByteBuffer(string: "x"), on: id) }
        let events = try pump(&client, &server)
        #expect(events.count == 1)
        guard case .datagram(id, let d) = events.first else { Issue.record("\(events)"); return }
        #expect(d.readableBytes == 10_000)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
