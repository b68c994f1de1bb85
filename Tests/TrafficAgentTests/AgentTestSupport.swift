import AgentConfig
import Foundation
import NIOCore
import NIOPosix
import NetworkAddress
import Synchronization
import Tunnel
@testable import TrafficAgent

#if canImport(Glibc)
import Glibc
#endif

/// The next port below the kernel's ephemeral range (32768 and up) that is free right now (TCP
/// and UDP): a port the system chose for port 0 could be handed to another test's outgoing
/// connection before the agent binds it. Each call gives a new one (tests run in parallel).
func freePort(udp: Bool = false) throws -> Int {
    while true {
        let port = nextPort.add(1, ordering: .relaxed).newValue
        if port >= 32000 { nextPort.store(20000, ordering: .relaxed) }
        if canBind(port, type: SOCK_STREAM) && canBind(port, type: SOCK_DGRAM) { return port }
    }
}

private let nextPort = Atomic<Int>(20000 + Int.random(in: 0..<10000))

private func canBind(_ port: Int, type: __socket_type) -> Bool {
    let fd = socket(AF_INET, Int32(type.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = 0
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// A config with one TCP intercept (and optionally a UDP one) of container `app`.
func testConfig(agentPort: Int, containerPort: Int, tunnelPort: Int, udp: (agentPort: Int, containerPort: Int)? = nil,
                managerPort: Int = 8081) -> AgentConfig {
    var intercepts = [AgentConfig.Intercept(
        serviceName: "echo", serviceUID: "uid-1", servicePortName: "http", servicePort: 80, protocol: "TCP",
        targetPortNumeric: false, containerPortName: "http", containerPort: containerPort, agentPort: agentPort)]
    if let udp {
        intercepts.append(AgentConfig.Intercept(
            serviceName: "echo", serviceUID: "uid-1", servicePortName: "dns", servicePort: 53, protocol: "UDP",
            targetPortNumeric: true, containerPortName: "", containerPort: udp.containerPort, agentPort: udp.agentPort))
    }
    return AgentConfig(
        agentName: "echo", namespace: "default", workloadName: "echo", workloadKind: "Deployment",
        agentImage: "ghcr.io/telepresence-swift/traffic:test", managerHost: "127.0.0.1", managerPort: managerPort,
        tunnelPort: tunnelPort,
        containers: [AgentConfig.Container(name: "app", envPrefix: "A_", mountPoint: "/tel_app_mounts/app", mounts: ["/data"], intercepts: intercepts)])
}

/// A TCP server on 127.0.0.1 (port 0) that echoes and half-closes after its peer did.
func echoServer(group: any EventLoopGroup) async throws -> any Channel {
    try await ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
}

/// A server that says `greeting`, half-closes at once, and keeps what its peer sends after.
final class GreeterServer: Sendable {
    let channel: any Channel
    let record: Record

    final class Record: Sendable {
        let received = Mutex<[UInt8]>([])
        let finished = Mutex(false)
    }

    var received: [UInt8] { record.received.withLock { $0 } }
    var peerFinished: Bool { record.finished.withLock { $0 } }

    init(group: any EventLoopGroup, greeting: String) async throws {
        let record = Record()
        self.record = record
        channel = try await ServerBootstrap(group: group)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Greeter(greeting: greeting, record: record))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var port: Int { channel.localAddress!.port! }

    final class Greeter: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let greeting: String
        let record: Record
        init(greeting: String, record: Record) {
            self.greeting = greeting
            self.record = record
        }
        func channelActive(context: ChannelHandlerContext) {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting))).whenComplete { _ in
                channel.close(mode: .output, promise: nil)
            }
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            record.received.withLock { $0 += Array(bytes.readableBytesView) }
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { record.finished.withLock { $0 = true } }
        }
        // Our output was shut first: the peer's FIN closes the channel without `inputClosed`.
        func channelInactive(context: ChannelHandlerContext) {
            record.finished.withLock { $0 = true }
        }
    }
}

final class Echo: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.writeAndFlush(data, promise: nil) }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in channel.close(mode: .output, promise: nil) }
        }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A UDP echo on 127.0.0.1 (port 0).
func udpEchoServer(group: any EventLoopGroup) async throws -> any Channel {
    try await DatagramBootstrap(group: group)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPEcho()) }
        }
        .bind(host: "127.0.0.1", port: 0).get()
}

final class UDPEcho: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: envelope.data)), promise: nil)
    }
}

/// A client connection that records what happens to it, the way a user's program sees it.
final class Probe: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    struct State: Sendable {
        var received: [UInt8] = []
        var eof = false
        var reset = false
        var closed = false
    }
    let state = Mutex(State())
    let firstBytes: String?
    init(firstBytes: String? = nil) { self.firstBytes = firstBytes }

    func channelActive(context: ChannelHandlerContext) {
        if let firstBytes { context.writeAndFlush(NIOAny(ByteBuffer(string: firstBytes)), promise: nil) }
        context.fireChannelActive()
    }

    var text: String { String(decoding: state.withLock { $0.received }, as: UTF8.self) }
    var eof: Bool { state.withLock { $0.eof } }
    var wasReset: Bool { state.withLock { $0.reset } }
    var closed: Bool { state.withLock { $0.closed } }

    /// Connects; `firstBytes` are sent as soon as the connection is up (as an HTTP client does).
    static func connect(group: any EventLoopGroup, port: Int, firstBytes: String? = nil) async throws -> (any Channel, Probe) {
        let probe = Probe(firstBytes: firstBytes)
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(probe) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return (channel, probe)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        state.withLock { $0.received += Array(bytes.readableBytesView) }
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { state.withLock { $0.eof = true } }
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let io = error as? IOError, io.errnoCode == ECONNRESET { state.withLock { $0.reset = true } }
        context.close(promise: nil)
    }
    func channelInactive(context: ChannelHandlerContext) {
        state.withLock { $0.closed = true }
    }
}

/// The workstation side of a claimed tunnel: a TCP connection to the agent's tunnel port with an
/// initiator multiplexer that dials what the agent opens (with `TunnelDialer`, as the user
/// daemon does) and records the OPENs.
final class TestClient: Sendable {
    let channel: any Channel
    let multiplexer: NIOLoopBound<TunnelMultiplexer>
    let recorder = OpenRecorder()
    var opens: [TunnelOpen] { recorder.opens.withLock { $0 } }

    final class OpenRecorder: Sendable {
        let opens = Mutex<[TunnelOpen]>([])
    }

    init(group: any EventLoopGroup, tunnelPort: Int, dialer: TunnelDialer = TunnelDialer(defaultTimeout: .seconds(5))) async throws {
        let loop = group.next()
        let recorder = recorder
        channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(TunnelMultiplexer(role: .initiator) { stream, open in
                        recorder.opens.withLock { $0.append(open) }
                        dialer.handle(stream, open)
                    })
                }
            }
            .connect(host: "127.0.0.1", port: tunnelPort).get()
        let channel = channel
        multiplexer = try await loop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: TunnelMultiplexer.self), eventLoop: loop)
        }.get()
    }

    enum ClaimOutcome: Sendable, Equatable { case accepted, refused(TunnelOpenFailure, String) }

    /// Claims `session`: the agent's answer.
    func claim(_ session: String) async throws -> ClaimOutcome {
        let promise = channel.eventLoop.makePromise(of: ClaimOutcome.self)
        let mux = multiplexer
        try await channel.eventLoop.submit {
            let watcher = ClaimWatcher(promise: promise)
            let stream = try mux.value.openStream(flow: TunnelClaim.flow, initialData: TunnelClaim.payload(session: session), delegate: watcher)
            watcher.stream = stream
        }.get()
        return try await promise.futureResult.get()
    }

    /// Opens a stream to the agent (which must refuse it).
    func open(_ flow: TunnelFlow) async throws -> ClaimOutcome {
        let promise = channel.eventLoop.makePromise(of: ClaimOutcome.self)
        let mux = multiplexer
        try await channel.eventLoop.submit {
            let watcher = ClaimWatcher(promise: promise)
            watcher.stream = try mux.value.openStream(flow: flow, delegate: watcher)
        }.get()
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }

    final class ClaimWatcher: TunnelStreamDelegate {
        let promise: EventLoopPromise<ClaimOutcome>
        var stream: TunnelStream?
        var done = false
        init(promise: EventLoopPromise<ClaimOutcome>) { self.promise = promise }
        private func finish(_ result: Result<ClaimOutcome, any Error>) {
            guard !done else { return }
            done = true
            promise.completeWith(result)
        }
        func tunnelStreamDidOpen(_ stream: TunnelStream) { finish(.success(.accepted)) }
        func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {
            finish(.success(.refused(reason, message)))
        }
        func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {}
        func tunnelStreamDidClose(_ stream: TunnelStream) { finish(.failure(ChannelError.ioOnClosedChannel)) }
    }
}

func assignment(id: String = "client-1:echo", session: String = "client-1", state: InterceptAssignment.State = .active,
                agentPort: Int, protocol: String = "TCP", targetPort: Int) -> InterceptAssignment {
    InterceptAssignment(id: id, clientSession: session, state: state, containerName: "app", agentPort: agentPort,
                        protocol: `protocol`, targetHost: "127.0.0.1", targetPort: targetPort)
}
