import NIOCore
import SPDY

/// Port-forward over SPDY/3.1 (`portforward.k8s.io`), the fallback for API servers or proxies
/// that refuse the WebSocket upgrade. It sits right after the upgrade, on raw bytes, and gives
/// the handlers after it the same contract as `PortForwardHandler`: plain `ByteBuffer`s of the
/// pod's port in both directions, failures as `errorCaught(KubeError.portForwardFailed)`.
/// One SPDY connection carries one forwarded TCP connection, like one WebSocket does.
final class SPDYPortForwardHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var state: SPDYPortForwardClient
    private let pod: String
    private let encoder: SPDYFrameEncoder
    private let decoder: SPDYFrameDecoder
    private var scratch: [UInt8] = []
    private var ended = false

    init(pod: String, port: Int) throws {
        self.pod = pod
        self.state = SPDYPortForwardClient(port: port)
        self.encoder = try SPDYFrameEncoder()
        self.decoder = try SPDYFrameDecoder()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let buffer = encode(state.start(), context: context) {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !ended else { return }
        let bytes = unwrapInboundIn(data)
        decoder.feed(bytes.readableBytesView)
        var outbound: [SPDYFrame] = []
        do {
            while let frame = try decoder.nextFrame() {
                for action in state.receive(frame) {
                    switch action {
                    case .send(let frames):
                        outbound += frames
                    case .deliver(let payload):
                        context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: payload)))
                    case .remoteFinished:
                        // The pod closed its side; like the WebSocket stream, that ends the connection.
                        flush(outbound, context: context)
                        return end(context: context, error: nil)
                    case .failed(let message):
                        return end(context: context, error: KubeError.portForwardFailed(pod: pod, port: state.port, message: message))
                    case .violation(let reason):
                        return end(context: context, error: KubeError.streamProtocolViolation("SPDY port-forward: \(reason)"))
                    }
                }
            }
        } catch {
            return end(context: context, error: KubeError.streamProtocolViolation("SPDY port-forward: \(error)"))
        }
        flush(outbound, context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let payload = unwrapOutboundIn(data)
        guard let buffer = encode(state.send(payload.readableBytesView), context: context) else {
            promise?.succeed()
            return
        }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        // Half-close the data stream first so the pod reads EOF, as client-go does.
        if mode == .all, !ended, let buffer = encode(state.finish(), context: context) {
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        context.close(mode: mode, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !ended, let message = state.connectionClosed() {
            ended = true
            context.fireErrorCaught(KubeError.portForwardFailed(pod: pod, port: state.port, message: message))
        }
        ended = true
        context.fireChannelInactive()
    }

    private func flush(_ frames: [SPDYFrame], context: ChannelHandlerContext) {
        if let buffer = encode(frames, context: context) { context.writeAndFlush(wrapOutboundOut(buffer), promise: nil) }
    }

    private func end(context: ChannelHandlerContext, error: (any Error)?) {
        ended = true
        if let error { context.fireErrorCaught(error) }
        context.close(promise: nil)
    }

    private func encode(_ frames: [SPDYFrame], context: ChannelHandlerContext) -> ByteBuffer? {
        guard !frames.isEmpty else { return nil }
        scratch.removeAll(keepingCapacity: true)
        do {
            for frame in frames { try encoder.encode(frame, into: &scratch) }
        } catch {
            context.fireErrorCaught(KubeError.streamProtocolViolation("SPDY port-forward: \(error)"))
            return nil
        }
        return context.channel.allocator.buffer(bytes: scratch)
    }
}
