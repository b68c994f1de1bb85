import NIOCore
import NIOPosix

/// Forwards queries that are not cluster names to the workstation's original resolvers over UDP.
/// Each try gets a fresh random ID (restored in the reply) and its own timeout; on timeout the next
/// resolver is tried, and when all fail the caller answers SERVFAIL. Replies are accepted only from
/// the resolver asked and with the ID sent, which keeps off spoofed answers.
public final class UpstreamForwarder: Sendable {
    /// The resolvers, in the order they are tried.
    public let upstreams: [SocketAddress]
    /// How long one resolver has to answer.
    public let timeout: TimeAmount
    private let channels: [Int32: Channel]
    private let handlers: [Int32: NIOLoopBound<UpstreamExchangeHandler>]

    private init(upstreams: [SocketAddress], timeout: TimeAmount, channels: [Int32: Channel], handlers: [Int32: NIOLoopBound<UpstreamExchangeHandler>]) {
        self.upstreams = upstreams
        self.timeout = timeout
        self.channels = channels
        self.handlers = handlers
    }

    /// Opens one UDP socket per address family the upstreams use.
    public static func make(upstreams: [SocketAddress], timeout: TimeAmount, group: any EventLoopGroup) async throws -> UpstreamForwarder {
        var channels: [Int32: Channel] = [:]
        var handlers: [Int32: NIOLoopBound<UpstreamExchangeHandler>] = [:]
        for family in Set(upstreams.map(\.protocol.rawValue)) {
            let host = family == NIOBSDSocket.ProtocolFamily.inet6.rawValue ? "::" : "0.0.0.0"
            let channel = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(UpstreamExchangeHandler())
                    }
                }
                .bind(host: host, port: 0).get()
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self), eventLoop: channel.eventLoop)
            }.get()
            channels[family] = channel
            handlers[family] = handler
        }
        return UpstreamForwarder(upstreams: upstreams, timeout: timeout, channels: channels, handlers: handlers)
    }

    /// The first reply any upstream gives to `query` (raw wire bytes, ID as the client sent it),
    /// or nil when none answered in time. With `retryTruncatedOverTCP` (the client itself asked
    /// over TCP), a truncated UDP reply is fetched again over TCP from the same upstream.
    public func forward(_ query: [UInt8], retryTruncatedOverTCP: Bool = false) async -> [UInt8]? {
        guard query.count >= 12 else { return nil }
        for upstream in upstreams {
            let family = upstream.protocol.rawValue
            guard let channel = channels[family], let handler = handlers[family] else { continue }
            let promise = channel.eventLoop.makePromise(of: [UInt8]?.self)
            let timeout = self.timeout
            channel.eventLoop.execute {
                handler.value.exchange(query, with: upstream, timeout: timeout, promise: promise)
            }
            guard let reply = try? await promise.futureResult.get() else { continue }
            if retryTruncatedOverTCP, reply[2] & 0x02 != 0,
               let whole = await exchangeOverTCP(query, with: upstream, group: channel.eventLoop) {
                return whole
            }
            return reply
        }
        return nil
    }

    /// One query over a fresh TCP connection, bounded by the timeout; nil on any failure.
    private func exchangeOverTCP(_ query: [UInt8], with upstream: SocketAddress, group: any EventLoopGroup) async -> [UInt8]? {
        let timeout = Duration.nanoseconds(self.timeout.nanoseconds)
        return await withTaskGroup(of: [UInt8]?.self) { tasks in
            tasks.addTask {
                do {
                    let connection = try await ClientBootstrap(group: group)
                        .connectTimeout(self.timeout)
                        .connect(to: upstream) { channel in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSTCPFrameDecoder()))
                                try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(DNSTCPFrameEncoder()))
                                return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                            }
                        }
                    return try await connection.executeThenClose { inbound, outbound in
                        try await outbound.write(ByteBuffer(bytes: query))
                        for try await frame in inbound {
                            let reply = Array(frame.readableBytesView)
                            // Same connection, same ID: anything else is not our answer.
                            guard reply.count >= 12, reply[0] == query[0], reply[1] == query[1] else { return nil }
                            return reply
                        }
                        return nil
                    }
                } catch {
                    return nil
                }
            }
            tasks.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await tasks.next() ?? nil
            tasks.cancelAll()
            return first
        }
    }

    /// Closes the sockets.
    public func close() async {
        for channel in channels.values { try? await channel.close() }
    }
}

/// The event-loop side of `UpstreamForwarder`: tracks outstanding queries by the ID sent.
final class UpstreamExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    private struct Pending {
        var originalID: (UInt8, UInt8)
        var upstream: SocketAddress
        var promise: EventLoopPromise<[UInt8]?>
        var timeout: Scheduled<Void>
    }

    private var pending: [UInt16: Pending] = [:]
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        failAll()
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll()
        context.fireChannelInactive()
    }

    func exchange(_ query: [UInt8], with upstream: SocketAddress, timeout: TimeAmount, promise: EventLoopPromise<[UInt8]?>) {
        guard let context, pending.count < 60_000 else {
            promise.succeed(nil)
            return
        }
        var id = UInt16.random(in: 0...UInt16.max)
        while pending[id] != nil { id = UInt16.random(in: 0...UInt16.max) }
        let sentID = id
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timer = context.eventLoop.scheduleTask(in: timeout) {
            guard let entry = handler.value.pending.removeValue(forKey: sentID) else { return }
            entry.promise.succeed(nil)
        }
        pending[id] = Pending(originalID: (query[0], query[1]), upstream: upstream, promise: promise, timeout: timer)
        var buffer = context.channel.allocator.buffer(capacity: query.count)
        buffer.writeInteger(id)
        buffer.writeBytes(query[2...])
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: upstream, data: buffer)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        var reply = Array(envelope.data.readableBytesView)
        guard reply.count >= 12 else { return }
        let id = UInt16(reply[0]) << 8 | UInt16(reply[1])
        guard let entry = pending[id], entry.upstream == envelope.remoteAddress else { return }
        pending[id] = nil
        entry.timeout.cancel()
        reply[0] = entry.originalID.0
        reply[1] = entry.originalID.1
        entry.promise.succeed(reply)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // ICMP errors on an unconnected UDP socket say nothing about a particular query; the
        // timeouts take care of the queries in flight.
    }

    private func failAll() {
        let all = pending.values
        pending = [:]
        for entry in all {
            entry.timeout.cancel()
            entry.promise.succeed(nil)
        }
    }
}
