import DNS
import NIOCore
import NIOPosix

/// Sends one query to a DNS server over UDP or TCP and returns the reply, or throws after a
/// timeout; our own client, so the server is checked without trusting a shared codec path only.
enum TestDNSClient {
    struct NoReply: Error, CustomStringConvertible {
        var description: String { "the DNS server did not reply in time" }
    }

    static func udp(_ query: [UInt8], to server: SocketAddress, timeout: TimeAmount = .seconds(5)) async throws -> [UInt8] {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: [UInt8].self)
        let channel: Channel
        do { channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FirstReply(promise: promise, timeout: timeout))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        } catch {
            promise.fail(error)
            throw error
        }
        do {
            try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: query)))
            let reply = try await promise.futureResult.get()
            try? await channel.close()
            return reply
        } catch {
            try? await channel.close()
            throw error
        }
    }

    static func tcp(_ queries: [[UInt8]], to server: SocketAddress, timeout: TimeAmount = .seconds(5)) async throws -> [[UInt8]] {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: [[UInt8]].self)
        let expected = queries.count
        let channel: Channel
        do { channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collect(expected: expected, promise: promise, timeout: timeout))
                }
            }
            .connect(to: server).get()
        } catch {
            promise.fail(error)
            throw error
        }
        do {
            // All queries in one write, split at odd places by nothing but TCP itself.
            var buffer = ByteBuffer()
            for query in queries {
                buffer.writeInteger(UInt16(query.count))
                buffer.writeBytes(query)
            }
            try await channel.writeAndFlush(buffer)
            let replies = try await promise.futureResult.get()
            try? await channel.close()
            return replies
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Completes a promise once, with a reply or with `NoReply` after a timeout.
    class Once<Value: Sendable> {
        let promise: EventLoopPromise<Value>
        let timeout: TimeAmount
        var completed = false
        var timer: Scheduled<Void>?
        init(promise: EventLoopPromise<Value>, timeout: TimeAmount) {
            self.promise = promise
            self.timeout = timeout
        }
        func arm(_ eventLoop: any EventLoop) {
            let bound = NIOLoopBound(self, eventLoop: eventLoop)
            timer = eventLoop.scheduleTask(in: timeout) { bound.value.finish(.failure(NoReply())) }
        }
        func finish(_ result: Result<Value, any Error>) {
            guard !completed else { return }
            completed = true
            timer?.cancel()
            promise.completeWith(result)
        }
    }

    final class FirstReply: Once<[UInt8]>, ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        func handlerAdded(context: ChannelHandlerContext) { arm(context.eventLoop) }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            finish(.success(Array(unwrapInboundIn(data).data.readableBytesView)))
        }
    }

    /// Reassembles length-prefixed replies until `expected` have arrived.
    final class Collect: Once<[[UInt8]]>, ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let expected: Int
        var pending = ByteBuffer()
        var replies: [[UInt8]] = []
        init(expected: Int, promise: EventLoopPromise<[[UInt8]]>, timeout: TimeAmount) {
            self.expected = expected
            super.init(promise: promise, timeout: timeout)
        }
        func handlerAdded(context: ChannelHandlerContext) { arm(context.eventLoop) }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            pending.writeBuffer(&incoming)
            while let length = pending.getInteger(at: pending.readerIndex, as: UInt16.self),
                  pending.readableBytes >= 2 + Int(length) {
                pending.moveReaderIndex(forwardBy: 2)
                replies.append(Array(pending.readSlice(length: Int(length))!.readableBytesView))
            }
            if replies.count >= expected { finish(.success(replies)) }
        }
        func channelInactive(context: ChannelHandlerContext) {
            finish(.failure(NoReply()))
        }
    }
}
