import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket

/// Runs `pods/portforward` on an upgraded WebSocket, as the kubelet does: port `i` of the request
/// gets data channel `2i` and error channel `2i+1`, each announced by a first message carrying
/// the port (uint16, little-endian). Each port is one TCP connection into the pod, made through
/// the node's runtime and wrapped into a NIO channel on this connection's event loop, so bytes
/// are relayed between the two channels without leaving the loop. A port that cannot be
/// reached gets its error as text on its error channel while the other ports carry on; the
/// WebSocket closes when every port's connection has ended.
///
/// Flow control: while a pod socket cannot take more bytes, the WebSocket is not read; while
/// the WebSocket cannot take more, the pod sockets are not read.
final class PortForwardSession: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// Bytes from the client buffered for a port whose connection is still being made.
    static let pendingLimit = 1 << 20

    private struct Port {
        let number: Int
        var channel: (any Channel)?
        var pending: [ByteBuffer] = []
        var pendingBytes = 0
        var needsFlush = false
        var ended = false
    }

    private let plan: PortForwardPlan
    private var ports: [Port]
    private var reader = ChannelMessageReader()
    private var context: ChannelHandlerContext?
    private var readHeld = false
    private var closing = false

    init(plan: PortForwardPlan) {
        self.plan = plan
        self.ports = plan.ports.map { Port(number: $0) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        for (index, port) in ports.enumerated() {
            for channel in [UInt8(2 * index), UInt8(2 * index + 1)] {
                var header = context.channel.allocator.buffer(capacity: 2)
                header.writeInteger(UInt16(port.number), endianness: .little)
                context.write(wrapOutboundOut(ChannelProtocol.frame(channel: channel, payload: header, allocator: context.channel.allocator)), promise: nil)
            }
        }
        context.flush()
        let eventLoop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        for (index, port) in ports.enumerated() {
            let plan = self.plan
            Task {
                do {
                    let fd = try await plan.runtime.connect(namespace: plan.namespace, pod: plan.pod, port: port.number)
                    eventLoop.execute { this.value.connected(index, fd: fd) }
                } catch {
                    eventLoop.execute { this.value.failed(index, error) }
                }
            }
        }
    }

    private func connected(_ index: Int, fd: Int32) {
        guard !closing, let context else {
            Glibc.close(fd)
            return
        }
        let eventLoop = context.eventLoop
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PodSocketRelay(session: this.value, index: index))
                }
            }
            .withConnectedSocket(fd)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel): this.value.attached(index, channel)
                case .failure(let error):
                    Glibc.close(fd)
                    this.value.failed(index, error)
                }
            }
    }

    private func attached(_ index: Int, _ channel: any Channel) {
        guard !closing, !ports[index].ended else {
            channel.close(promise: nil)
            return
        }
        ports[index].channel = channel
        for buffer in ports[index].pending { channel.write(buffer, promise: nil) }
        ports[index].pending = []
        ports[index].pendingBytes = 0
        channel.flush()
        if let context, !context.channel.isWritable {
            try? channel.syncOptions?.setOption(.autoRead, value: false)
        }
        resumeReadingIfPossible()
    }

    private func failed(_ index: Int, _ error: any Error) {
        guard let context, !ports[index].ended else { return }
        let reason: String
        switch error {
        case let error as PodRuntimeError:
            if case .connectionRefused = error { reason = error.description } else {
                reason = "error forwarding port \(ports[index].number) to pod \(plan.pod), uid \(plan.uid): \(error.description)"
            }
        default:
            reason = "error forwarding port \(ports[index].number) to pod \(plan.pod), uid \(plan.uid): \(error)"
        }
        let text = context.channel.allocator.buffer(string: reason)
        context.writeAndFlush(wrapOutboundOut(ChannelProtocol.frame(channel: UInt8(2 * index + 1), payload: text, allocator: context.channel.allocator)), promise: nil)
        portEnded(index)
    }

    fileprivate func portEnded(_ index: Int) {
        ports[index].ended = true
        ports[index].channel = nil
        ports[index].pending = []
        ports[index].pendingBytes = 0
        resumeReadingIfPossible()
        if ports.allSatisfy(\.ended) { finish() }
    }

    /// Ends the session: a close frame, then the connection.
    private func finish(code: WebSocketErrorCode = .normalClosure) {
        guard !closing, let context else { return }
        closing = true
        for port in ports { port.channel?.close(promise: nil) }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ChannelProtocol.closeFrame(allocator: channel.allocator, code: code)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    // MARK: From the client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let event = reader.receive(opcode: frame.opcode, fin: frame.fin, payload: frame.fastUnmaskedData) else { return }
        switch event {
        case .data(let channel, let payload):
            let index = Int(channel / 2)
            // Clients write only to data channels; anything else is ignored, as the kubelet does.
            guard channel % 2 == 0, index < ports.count, !ports[index].ended, payload.readableBytes > 0 else { return }
            if let target = ports[index].channel {
                target.write(payload, promise: nil)
                ports[index].needsFlush = true
            } else {
                ports[index].pending.append(payload)
                ports[index].pendingBytes += payload.readableBytes
            }
        case .ping(let payload):
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: payload)), promise: nil)
        case .close:
            finish()
        case .violation:
            finish(code: .protocolError)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        for index in ports.indices where ports[index].needsFlush {
            ports[index].needsFlush = false
            ports[index].channel?.flush()
        }
        context.fireChannelReadComplete()
    }

    /// Holds the WebSocket's reads while a pod socket is full or too much waits for a connection.
    func read(context: ChannelHandlerContext) {
        if mustHoldReads {
            readHeld = true
        } else {
            context.read()
        }
    }

    private var mustHoldReads: Bool {
        ports.contains { port in
            !port.ended && (port.pendingBytes > Self.pendingLimit || (port.channel.map { !$0.isWritable } ?? false))
        }
    }

    fileprivate func resumeReadingIfPossible() {
        guard readHeld, !mustHoldReads, let context else { return }
        readHeld = false
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        for port in ports { try? port.channel?.syncOptions?.setOption(.autoRead, value: writable) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        for port in ports { port.channel?.close(promise: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: From the pod

    fileprivate func fromPod(_ index: Int, _ buffer: ByteBuffer) {
        guard let context, !closing else { return }
        context.write(wrapOutboundOut(ChannelProtocol.frame(channel: UInt8(2 * index), payload: buffer, allocator: context.channel.allocator)), promise: nil)
    }

    fileprivate func flushToClient() { context?.flush() }
}

/// The pod side of one forwarded port: hands what the pod sends to the session, on the same
/// event loop.
private final class PodSocketRelay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let session: PortForwardSession
    private let index: Int

    init(session: PortForwardSession, index: Int) {
        self.session = session
        self.index = index
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        session.fromPod(index, unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        session.flushToClient()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        session.resumeReadingIfPossible()
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        session.portEnded(index)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
