import DNS
import NIOCore
import NIOPosix
import Synchronization

/// A tiny DNS resolver on 127.0.0.1 standing in for the workstation's original one: answers every
/// A question with a fixed address, or stays silent, and remembers the queries it saw.
final class FakeUpstream: Sendable {
    let channel: Channel
    let address: SocketAddress
    private let box: StateBox

    struct State {
        var silent = false
        var queries: [DNSMessage] = []
    }

    private init(channel: Channel, box: StateBox) throws {
        self.channel = channel
        guard let address = channel.localAddress else { throw ChannelError.inappropriateOperationForState }
        self.address = address
        self.box = box
    }

    static func start(answer: IPv4Address, silent: Bool = false) async throws -> FakeUpstream {
        let box = StateBox(state: State(silent: silent))
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Responder(answer: answer, box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return try FakeUpstream(channel: channel, box: box)
    }

    var queries: [DNSMessage] { box.state.withLock { $0.queries } }

    func stop() async {
        try? await channel.close()
    }

    /// Lets the handler share the Mutex without copying it.
    final class StateBox: Sendable {
        let state: Mutex<State>
        init(state: State) { self.state = Mutex(state) }
    }

    final class Responder: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let answer: IPv4Address
        let box: StateBox

        init(answer: IPv4Address, box: StateBox) {
            self.answer = answer
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
            var response = query.makeResponse()
            if let question = query.questions.first, question.type == .a {
                response.answers = [ResourceRecord(name: question.name, ttl: 300, data: .a(answer))]
            }
            guard let bytes = try? response.serialized(maxSize: query.maxUDPResponseSize) else { return }
            context.writeAndFlush(
                wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: bytes))),
                promise: nil)
        }
    }
}
