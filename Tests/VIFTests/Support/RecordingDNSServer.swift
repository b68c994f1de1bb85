import DNS
import NIOCore
import NIOPosix
import NetworkAddress

/// A DNS server for tests that answers every A question with one fixed address (AAAA with no
/// records) and remembers each question's name, so a test can tell which server a name reached.
final class RecordingDNSServer: Sendable {
    let channel: any Channel
    private let seen = LockedBox<[String]>([])

    /// Binds UDP `host:53`; call it on a thread inside the namespace that owns `host` (the
    /// socket is made in the calling thread's network namespace).
    init(host: String, answer text: String, group: any EventLoopGroup) throws {
        let seen = seen
        guard let answer = IPv4Address(text) else { throw NamespaceError("\(text) is not an IPv4 address") }
        channel = try DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(answer: answer, seen: seen))
                }
            }
            .bind(host: host, port: 53).wait()
    }

    /// The names asked so far, lowercased, without the final dot.
    var names: [String] { seen.value }

    func reset() { seen.withLock { $0 = [] } }

    func close() { try? channel.close().wait() }

    private final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let answer: IPv4Address
        let seen: LockedBox<[String]>

        init(answer: IPv4Address, seen: LockedBox<[String]>) {
            self.answer = answer
            self.seen = seen
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = Self.unwrapInboundIn(data)
            guard let query = try? DNSMessage(bytes: Array(envelope.data.readableBytesView)), let question = query.questions.first else { return }
            var name = question.name.description.lowercased()
            if name.hasSuffix(".") { name.removeLast() }
            seen.withLock { $0.append(name) }
            var response = query.makeResponse()
            if question.type == .a {
                response.answers.append(ResourceRecord(name: question.name, ttl: 1, data: .a(answer)))
            }
            guard let bytes = try? response.serialized() else { return }
            context.writeAndFlush(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress,
                                                                         data: context.channel.allocator.buffer(bytes: bytes))), promise: nil)
        }
    }
}
