import Foundation
import NIOCore
import NIOPosix
import NetworkAddress
import Synchronization
import Tunnel

/// A traffic-agent's tunnel end made of the real Tunnel pieces: a TCP listener whose every
/// connection runs a responder multiplexer that checks the client's claim (OPEN_OK for a
/// session in `sessions`, OPEN_FAILED prohibited otherwise) and, once claimed, lets a test open
/// streams toward the client as the agent does for each intercepted connection.
final class FakeAgent: Sendable {
    private struct Claimed: @unchecked Sendable {
        var session: String
        var multiplexer: TunnelMultiplexer
        var channel: any Channel
    }

    private final class Claims: @unchecked Sendable {
        let lock = Mutex<Void>(())
        var all: [Claimed] = []
        var refused: [String] = []
    }

    let listener: any Channel
    let port: Int
    /// The sessions whose claims are accepted.
    private let sessions: Sessions

    final class Sessions: Sendable {
        let accepted = Mutex<Set<String>>([])
        func contains(_ session: String) -> Bool { accepted.withLock { $0.contains(session) } }
    }

    /// Accepts claims of `session` from now on (the manager gave it an intercept here).
    func allow(_ session: String) { _ = sessions.accepted.withLock { $0.insert(session) } }

    private init(listener: any Channel, port: Int, sessions: Sessions) {
        self.listener = listener
        self.port = port
        self.sessions = sessions
    }

    static func start(host: String = "127.0.0.1") async throws -> FakeAgent {
        let claims = Claims()
        let sessions = Sessions()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let box = MuxBox()
                    let mux = TunnelMultiplexer(role: .responder) { stream, open in
                        guard TunnelClaim.isClaim(open.flow), let session = TunnelClaim.session(in: open.initialData) else {
                            stream.reject(.prohibited, message: "the fake agent dials nothing")
                            return
                        }
                        guard sessions.contains(session) else {
                            claims.lock.withLock { _ in claims.refused.append(session) }
                            stream.reject(.prohibited, message: "session \(session) holds no intercept here")
                            return
                        }
                        stream.delegate = Sink()
                        try? stream.accept()
                        if let mux = box.mux {
                            claims.lock.withLock { _ in claims.all.append(Claimed(session: session, multiplexer: mux, channel: channel)) }
                        }
                    }
                    box.mux = mux
                    try channel.pipeline.syncOperations.addHandler(mux)
                }
            }
            .bind(host: host, port: 0).get()
        let agent = FakeAgent(listener: listener, port: listener.localAddress?.port ?? 0, sessions: sessions)
        agent.shared.withLock { $0 = claims }
        return agent
    }

    private let shared = Mutex<Claims?>(nil)
    private var current: Claims { shared.withLock { $0 }! }

    /// The sessions that claimed this agent and are still connected.
    var claimedSessions: [String] {
        current.lock.withLock { _ in current.all.filter { $0.channel.isActive }.map(\.session) }
    }

    var refusedSessions: [String] { current.lock.withLock { _ in current.refused } }

    /// Opens a stream toward the client on the latest live claim, as the agent does for an
    /// intercepted connection: `initialData` rides in the OPEN.
    func openConnection(to destination: TunnelEndpoint, initialData: String, transport: TunnelFlow.Transport = .tcp) async throws -> ConnectionProbe {
        guard let claim = current.lock.withLock({ _ in current.all.last(where: { $0.channel.isActive }) }) else {
            throw FakeAgentError("no client has claimed the fake agent")
        }
        let probe = ConnectionProbe()
        let flow = TunnelFlow(
            transport: transport, source: TunnelEndpoint(address: IPAddress("10.244.0.9")!, port: 40000), destination: destination)
        try await claim.channel.eventLoop.submit {
            let stream = try claim.multiplexer.openStream(flow: flow, initialData: ByteBuffer(string: initialData), delegate: probe)
            probe.stream = NIOLoopBound(stream, eventLoop: claim.channel.eventLoop)
        }.get()
        return probe
    }

    func stop() async {
        try? await listener.close().get()
        for claim in current.lock.withLock({ _ in current.all }) { try? await claim.channel.close().get() }
    }
}

private final class MuxBox: @unchecked Sendable {
    var mux: TunnelMultiplexer?
}

/// Swallows what the client sends on the claim stream.
private final class Sink: TunnelStreamDelegate {
    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {}
}

struct FakeAgentError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// What happened to one stream the fake agent opened: OPEN_OK or OPEN_FAILED, the bytes the
/// client sent back, FIN, reset.
final class ConnectionProbe: TunnelStreamDelegate, @unchecked Sendable {
    struct Events: Sendable {
        var opened = false
        var openFailed: TunnelOpenFailure?
        var failureMessage = ""
        var received = ""
        var fin = false
        var reset = false
        var closed = false
    }

    let events = Mutex(Events())
    var stream: NIOLoopBound<TunnelStream>?

    var snapshot: Events { events.withLock { $0 } }

    /// Sends more bytes toward the client.
    func send(_ text: String) async throws {
        guard let stream else { return }
        try await stream.eventLoop.submit { try stream.value.write(ByteBuffer(string: text)) }.get()
    }

    func tunnelStreamDidOpen(_ stream: TunnelStream) { events.withLock { $0.opened = true } }
    func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {
        events.withLock {
            $0.openFailed = reason
            $0.failureMessage = message
        }
    }
    func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {
        events.withLock { $0.received += String(buffer: bytes) }
    }
    func tunnelStreamDidReceiveFIN(_ stream: TunnelStream) { events.withLock { $0.fin = true } }
    func tunnelStream(_ stream: TunnelStream, didReset reason: TunnelResetReason) { events.withLock { $0.reset = true } }
    func tunnelStreamDidClose(_ stream: TunnelStream) { events.withLock { $0.closed = true } }
}
