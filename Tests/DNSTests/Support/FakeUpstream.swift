import DNS
import NIOCore
import NIOPosix
import NetworkAddress
import Synchronization

/// A tiny DNS resolver on 127.0.0.1 standing in for the workstation's original one: answers every
/// A question with `answerCount` addresses starting at a fixed one (over UDP cut to the client's
/// size with TC, over TCP whole), or stays silent; remembers the queries it saw.
final class FakeUpstream: Sendable {
    let udp: Channel
    let tcp: Channel
    let address: SocketAddress
    private let box: StateBox

    struct State {
        var silent = false
        var queries: [DNSMessage] = []
        var tcpQueries = 0
    }

    private init(udp: Channel, tcp: Channel, box: StateBox) throws {
        self.udp = udp
        self.tcp = tcp
        guard let address = udp.localAddress else { throw ChannelError.inappropriateOperationForState }
        self.address = address
        self.box = box
    }

    static func start(answer: IPv4Address, answerCount: Int = 1, silent: Bool = false) async throws -> FakeUpstream {
        let box = StateBox(state: State(silent: silent))
        let udp = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPResponder(answer: answer, count: answerCount, box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        do {
            let tcp = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(TCPResponder(answer: answer, count: answerCount, box: box))
                    }
                }
                .bind(host: "127.0.0.1", port: udp.localAddress?.port ?? 0).get()
            return try FakeUpstream(udp: udp, tcp: tcp, box: box)
        } catch {
            try? await udp.close()
            throw error
        }
    }

    var queries: [DNSMessage] { box.state.withLock { $0.queries } }
    var tcpQueries: Int { box.state.withLock { $0.tcpQueries } }

    func stop() async {
        try? await udp.close()
        try? await tcp.close()
    }

    final class StateBox: Sendable {
        let state: Mutex<State>
        init(state: State) { self.state = Mutex(state) }
    }

    static func response(to query: DNSMessage, answer: IPv4Address, count: Int) -> DNSMessage {
        var response = query.makeResponse()
        if let question = query.questions.first, question.type == .a {
            response.answers = (0..<count).map {
                ResourceRecord(name: question.name, ttl: 300, data: .a(IPv4Address(answer.value &+ UInt32($0))))
            }
        }
        return response
    }

    final class UDPResponder: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let answer: IPv4Address
        let count: Int
        let box: StateBox

        init(answer: IPv4Address, count: Int, box: StateBox) {
            self.answer = answer
            self.count = count
            self.box = box
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            guard let query = try? DNSMessage(bytes: Array(envelope.data.readableBytesView)) else { return }
            let silent = box.state.withLock { state in
                state.queries.append(query)
                return state.silent
            }
            guard !silent else { return }
            let response = FakeUpstream.response(to: query, answer: answer, count: count)
            guard let bytes = try? response.serialized(maxSize: query.maxUDPResponseSize) else { return }
            context.writeAndFlush(
                wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: bytes))),
                promise: nil)
        }
    }

    final class TCPResponder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: IPv4Address
        let count: Int
        let box: StateBox
        var pending = ByteBuffer()

        init(answer: IPv4Address, count: Int, box: StateBox) {
            self.answer = answer
            self.count = count
            self.box = box
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var incoming = unwrapInboundIn(data)
            pending.writeBuffer(&incoming)
            while let length = pending.getInteger(at: pending.readerIndex, as: UInt16.self),
                  pending.readableBytes >= 2 + Int(length) {
                pending.moveReaderIndex(forwardBy: 2)
                let bytes = Array(pending.readSlice(length: Int(length))!.readableBytesView)
                guard let query = try? DNSMessage(bytes: bytes) else { continue }
                box.state.withLock { $0.tcpQueries += 1 }
                guard let reply = try? FakeUpstream.response(to: query, answer: answer, count: count).serialized() else { continue }
                var out = context.channel.allocator.buffer(capacity: reply.count + 2)
                out.writeInteger(UInt16(reply.count))
                out.writeBytes(reply)
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }
    }
}
