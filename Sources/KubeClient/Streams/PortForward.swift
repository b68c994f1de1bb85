import NIOCore
import Synchronization

/// Speaks the port-forward channel protocol on an upgraded WebSocket: inbound data becomes
/// plain `ByteBuffer`s (the port headers are consumed and checked), outbound `ByteBuffer`s go to
/// the data channel, and text on the error channel is raised as `KubeError.portForwardFailed`
/// through `errorCaught`, after which the channel closes.
public final class PortForwardHandler: ChannelDuplexHandler {
    public typealias InboundIn = ChannelMessage
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ChannelMessage

    private var state: PortForwardProtocol
    private let pod: String

    init(pod: String, port: UInt16) {
        self.state = PortForwardProtocol(port: port)
        self.pod = pod
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state.receive(unwrapInboundIn(data)) {
        case .deliver(let bytes):
            context.fireChannelRead(wrapInboundOut(bytes))
        case .none:
            break
        case .error(let text):
            context.fireErrorCaught(KubeError.portForwardFailed(pod: pod, port: Int(state.port), message: text))
            context.close(promise: nil)
        case .violation(let reason):
            context.fireErrorCaught(KubeError.streamProtocolViolation(reason))
            context.close(promise: nil)
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(wrapOutboundOut(PortForwardProtocol.dataMessage(unwrapOutboundIn(data))), promise: promise)
    }
}

/// One forwarded TCP connection to a pod's port, as an async duplex byte stream.
///
/// Inbound: iterate `inbound` (once); it ends when the pod side closes and throws
/// `KubeError.portForwardFailed` when the error channel reports a failure. At most a few
/// messages are buffered; a slow reader stops the socket from being read.
/// Outbound: `write` waits until the bytes were handed to the socket, so a fast writer cannot
/// buffer without bound. The v4 protocol has no half-close: `closeWrite` only forbids further
/// writes; the pod sees EOF when the stream is closed.
public final class PortForwardStream: Sendable {
    public let pod: String
    public let port: Int
    /// The underlying NIO channel (for observing `closeFuture`).
    public let channel: any Channel
    /// The bytes from the pod's port.
    public let inbound: Inbound
    private let writeClosed = Atomic(false)

    init(pod: String, port: Int, channel: any Channel, inbound: InboundProducer<ByteBuffer>) {
        self.pod = pod
        self.port = port
        self.channel = channel
        self.inbound = Inbound(producer: inbound)
    }

    /// Sends bytes to the pod's port.
    public func write(_ bytes: ByteBuffer) async throws {
        guard !writeClosed.load(ordering: .relaxed) else {
            throw KubeError.invalidArgument("the port-forward stream to \(pod):\(port) was closed for writing")
        }
        do {
            try await channel.writeAndFlush(bytes).get()
        } catch let error as KubeError {
            throw error
        } catch {
            throw KubeError.connectionClosed(server: "pod \(pod) port \(port)")
        }
    }

    /// No more writes (see the type's note on half-close).
    public func closeWrite() {
        writeClosed.store(true, ordering: .relaxed)
    }

    /// Closes the stream (a WebSocket close frame, then the connection).
    public func close() async {
        try? await channel.close().get()
    }

    /// The inbound bytes of a `PortForwardStream`.
    public struct Inbound: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer
        let producer: InboundProducer<ByteBuffer>

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: InboundProducer<ByteBuffer>.AsyncIterator
            public mutating func next() async throws -> ByteBuffer? { try await base.next() }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: producer.makeAsyncIterator()) }
    }
}

extension KubeClient {
    /// Forwards one TCP connection to `port` of a pod through the API server
    /// (`pods/portforward`: WebSocket `v4.channel.k8s.io`, or SPDY/3.1 `portforward.k8s.io` when
    /// the server or a proxy on the way refuses the WebSocket upgrade).
    public func portForward(pod: String, namespace: String? = nil, port: Int) async throws -> PortForwardStream {
        let upgraded = try await openPortForward(pod: pod, namespace: namespace, port: port) { channel in
            let (bridge, sequence) = AsyncInboundBridge<ByteBuffer>.make(eventLoop: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandler(bridge)
            return sequence
        }
        return PortForwardStream(pod: pod, port: port, channel: upgraded.channel, inbound: upgraded.configured)
    }

    /// The NIO-level port-forward for a data plane that stays on the event loop: a channel whose
    /// pipeline ends in a port-forward protocol handler (WebSocket or SPDY) followed by the
    /// handlers `configure` adds (on the event loop, before any byte is read), which read and
    /// write plain `ByteBuffer`s of the pod's port. Failures arrive as
    /// `errorCaught(KubeError.portForwardFailed)`.
    ///
    /// `eventLoop`: where the channel lives (default: any of the client's loops). A relay that
    /// joins the forward to another channel passes that channel's loop, so bytes cross from one
    /// to the other without waking a second thread.
    public func portForwardChannel(
        pod: String, namespace: String? = nil, port: Int, on eventLoop: (any EventLoop)? = nil,
        configure: @escaping @Sendable (any Channel) throws -> Void = { _ in }
    ) async throws -> any Channel {
        try await openPortForward(pod: pod, namespace: namespace, port: port, eventLoop: eventLoop, configure: configure).channel
    }

    /// Which protocol `portForward` starts with; after one fallback the client remembers that
    /// this server needs SPDY and saves the refused WebSocket round trip on later forwards.
    public var portForwardProtocol: PortForwardProtocolChoice {
        transport.prefersSPDYPortForward.load(ordering: .relaxed) ? .spdy : .webSocket
    }

    private func openPortForward<Configured: Sendable>(
        pod: String, namespace: String?, port: Int, eventLoop: (any EventLoop)? = nil,
        configure: @escaping @Sendable (any Channel) throws -> Configured
    ) async throws -> UpgradeDialer.Upgraded<Configured> {
        guard (1...65535).contains(port) else {
            throw KubeError.invalidArgument("\(port) is not a TCP port; use a number between 1 and 65535")
        }
        let ns = try objectNamespace(.pods, namespace)
        let path = ResourceDescriptor.pods.path(namespace: ns, name: pod, subresource: "portforward")
        var refusedWebSocket = false
        if !transport.prefersSPDYPortForward.load(ordering: .relaxed) {
            var dialer = UpgradeDialer(transport: transport)
            dialer.fallbackCodes = Self.isUpgradeRefusal
            dialer.eventLoop = eventLoop
            let request = APIRequest(method: .GET, path: path, query: [("ports", String(port))], namespace: ns)
            do {
                return try await dialer.open(request, subprotocols: ["v4.channel.k8s.io"]) { channel, _ in
                    try channel.pipeline.syncOperations.addHandler(PortForwardHandler(pod: pod, port: UInt16(port)))
                    return try configure(channel)
                }
            } catch is UpgradeDialer.Refused {
                // kubectl does the same: a refused WebSocket upgrade is retried as SPDY.
                refusedWebSocket = true
            }
        }
        var dialer = UpgradeDialer(transport: transport, kind: .spdy)
        dialer.eventLoop = eventLoop
        let request = APIRequest(method: .POST, path: path, namespace: ns)
        let upgraded = try await dialer.open(request, subprotocols: ["portforward.k8s.io"]) { channel, chosen in
            if let chosen, chosen != "portforward.k8s.io" {
                throw KubeError.upgradeFailed(server: "pod \(pod)", reason: "the server chose the unknown protocol \(chosen)")
            }
            try channel.pipeline.syncOperations.addHandler(try SPDYPortForwardHandler(pod: pod, port: port))
            return try configure(channel)
        }
        if refusedWebSocket { transport.prefersSPDYPortForward.store(true, ordering: .relaxed) }
        return upgraded
    }

    /// The refusals worth a SPDY attempt: not the ones SPDY would meet again (credentials,
    /// permissions, a missing pod, throttling).
    static func isUpgradeRefusal(_ code: Int) -> Bool {
        code >= 400 && ![401, 403, 404, 422, 429].contains(code)
    }
}

/// The transport `KubeClient.portForward` starts with.
public enum PortForwardProtocolChoice: Sendable, Equatable {
    case webSocket
    case spdy
}
