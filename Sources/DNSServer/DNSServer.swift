import DNS
import NIOCore
import NIOPosix
import Synchronization

/// The DNS server the workstation's resolver talks to: UDP and TCP on one address and port.
/// Cluster names are answered by a `ClusterDNSResponder`; all other names are forwarded to the
/// resolvers the workstation had. Bind with `bind(...)`, then `run()` serves until its task is
/// cancelled and closes the sockets on the way out.
public final class DNSServer: Sendable {
    typealias UDPChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
    typealias TCPConnection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    typealias TCPListener = NIOAsyncChannel<TCPConnection, Never>

    /// The address UDP queries reach (the port is the real one when 0 was asked).
    public let udpAddress: SocketAddress
    /// The address TCP queries reach; same port as UDP.
    public let tcpAddress: SocketAddress
    /// Answers cluster names.
    public let responder: ClusterDNSResponder
    /// Reaches the workstation's original resolvers.
    public let forwarder: UpstreamForwarder

    /// Queries being answered at most at once; past it, new ones get SERVFAIL at once, so a flood
    /// costs bounded memory and the client retries instead of waiting.
    public let maxConcurrentQueries: Int
    /// A TCP connection that sends nothing for this long is closed.
    public static let tcpIdleTimeout = TimeAmount.seconds(10)

    private let udp: UDPChannel
    private let tcp: TCPListener
    private let queriesInFlight = Atomic<Int>(0)

    private init(udp: UDPChannel, tcp: TCPListener, responder: ClusterDNSResponder, forwarder: UpstreamForwarder, maxConcurrentQueries: Int) throws {
        guard let udpAddress = udp.channel.localAddress, let tcpAddress = tcp.channel.localAddress else {
            throw DNSServerError.bindFailed(host: "?", port: 0, reason: "the socket has no local address")
        }
        self.udp = udp
        self.tcp = tcp
        self.udpAddress = udpAddress
        self.tcpAddress = tcpAddress
        self.responder = responder
        self.forwarder = forwarder
        self.maxConcurrentQueries = maxConcurrentQueries
    }

    /// Opens the UDP and TCP sockets on `host:port` (port 0 picks a free port, the same for both)
    /// and a socket towards `upstreams`, each of which gets `upstreamTimeout` to answer.
    public static func bind(
        host: String, port: Int, responder: ClusterDNSResponder, upstreams: [SocketAddress],
        upstreamTimeout: TimeAmount = .milliseconds(1500), maxConcurrentQueries: Int = 1024,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> DNSServer {
        // With port 0 the TCP bind may find the UDP port taken by someone else; a few tries with
        // fresh UDP ports settle that.
        var lastError: (any Error)?
        for _ in 0..<(port == 0 ? 8 : 1) {
            let udp: UDPChannel
            do {
                udp = try await DatagramBootstrap(group: group)
                    .channelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture { try UDPChannel(wrappingChannelSynchronously: channel) }
                    }
            } catch {
                throw DNSServerError.bindFailed(host: host, port: port, reason: "\(error)")
            }
            let udpPort = udp.channel.localAddress?.port ?? port
            do {
                let tcp: TCPListener = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .bind(host: host, port: udpPort) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: tcpIdleTimeout))
                            try channel.pipeline.syncOperations.addHandler(CloseWhenIdle())
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(DNSTCPFrameEncoder()))
                            return try TCPConnection(wrappingChannelSynchronously: channel)
                        }
                    }
                let forwarder = try await UpstreamForwarder.make(upstreams: upstreams, timeout: upstreamTimeout, group: group)
                return try DNSServer(udp: udp, tcp: tcp, responder: responder, forwarder: forwarder, maxConcurrentQueries: maxConcurrentQueries)
            } catch {
                lastError = error
                try? await udp.channel.close()
            }
        }
        throw DNSServerError.bindFailed(host: host, port: port, reason: "\(lastError.map { "\($0)" } ?? "unknown")")
    }

    /// Serves queries until the calling task is cancelled, then closes every socket.
    public func run() async throws {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await self.serveUDP() }
                group.addTask { try await self.serveTCP() }
            }
        } catch {
            await forwarder.close()
            throw error
        }
        await forwarder.close()
    }

    private func serveUDP() async throws {
        try await udp.executeThenClose { inbound, outbound in
            try await withThrowingDiscardingTaskGroup { group in
                for try await envelope in inbound {
                    group.addTask {
                        guard let reply = await self.reply(to: envelope.data, overUDP: true) else { return }
                        try? await outbound.write(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: reply))
                    }
                }
            }
        }
    }

    private func serveTCP() async throws {
        try await tcp.executeThenClose { connections in
            try await withThrowingDiscardingTaskGroup { group in
                for try await connection in connections {
                    group.addTask {
                        // One connection's failure (reset, garbage) must not stop the server.
                        try? await connection.executeThenClose { inbound, outbound in
                            for try await frame in inbound {
                                guard let reply = await self.reply(to: frame, overUDP: false) else { continue }
                                try await outbound.write(reply)
                            }
                        }
                    }
                }
            }
        }
    }

    /// The wire reply to one query, or nil when it deserves none (a response, or bytes too short
    /// to carry an ID).
    func reply(to buffer: ByteBuffer, overUDP: Bool) async -> ByteBuffer? {
        let raw = Array(buffer.readableBytesView)
        let bytes: [UInt8]
        switch await answer(raw, overUDP: overUDP) {
        case .some(let answer): bytes = answer
        case .none: return nil
        }
        return ByteBuffer(bytes: bytes)
    }

    private func answer(_ raw: [UInt8], overUDP: Bool) async -> [UInt8]? {
        let admitted = queriesInFlight.add(1, ordering: .relaxed).newValue <= maxConcurrentQueries
        defer { queriesInFlight.subtract(1, ordering: .relaxed) }
        guard admitted else {
            // The question is echoed: stub resolvers drop replies whose question does not match.
            guard let query = try? DNSMessage(bytes: raw), !query.header.isResponse else { return nil }
            return try? query.makeResponse(rcode: .serverFailure).serialized()
        }
        let query: DNSMessage
        do {
            query = try DNSMessage(bytes: raw)
        } catch {
            return Self.formatError(for: raw)
        }
        guard !query.header.isResponse else { return nil }
        switch await responder.respond(to: query) {
        case .answer(let response):
            let limit = overUDP ? query.maxUDPResponseSize : 65535
            return (try? response.serialized(maxSize: limit))
                ?? (try? query.makeResponse(rcode: .serverFailure).serialized())
        case .forwardUpstream:
            if let reply = await forwarder.forward(raw, retryTruncatedOverTCP: !overUDP) { return reply }
            return try? query.makeResponse(rcode: .serverFailure).serialized()
        }
    }

    /// FORMERR with the query's ID and flags, for bytes that do not parse; nothing when there is
    /// not even a header.
    static func formatError(for raw: [UInt8]) -> [UInt8]? {
        guard raw.count >= 12, raw[2] & 0x80 == 0 else { return nil }
        let id = UInt16(raw[0]) << 8 | UInt16(raw[1])
        let header = DNSHeader(
            id: id, isResponse: true, opcode: (raw[2] >> 3) & 0x0F, recursionDesired: raw[2] & 0x01 != 0,
            recursionAvailable: true, rcode: DNSResponseCode.formatError.rawValue
        )
        return try? DNSMessage(header: header).serialized()
    }
}

/// Closes a TCP connection when `IdleStateHandler` reports it idle.
final class CloseWhenIdle: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Why the DNS server could not start.
public enum DNSServerError: Error, Sendable, CustomStringConvertible {
    case bindFailed(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .bindFailed(let host, let port, let reason):
            return "The DNS server could not listen on \(host):\(port) (\(reason)); free that port or choose another address."
        }
    }
}
