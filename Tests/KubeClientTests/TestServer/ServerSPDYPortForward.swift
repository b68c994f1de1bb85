import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SPDY

/// The API server's side of SPDY/3.1 port-forward (`portforward.k8s.io`), as kubelet's
/// spdystream speaks it: a SYN_REPLY for every stream, the data stream joined to a TCP port on
/// 127.0.0.1, a failed dial reported as text on the error stream. It sends no WINDOW_UPDATE
/// (spdystream sends none either), so a client that waited for send window would stall here.
final class SPDYPortForwardUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let supportedProtocol = "SPDY/3.1"
    let requiredUpgradeHeaders: [String] = []
    let accept: @Sendable (HTTPRequestHead) -> Bool
    let install: @Sendable (any Channel, HTTPRequestHead) throws -> Void

    init(accept: @escaping @Sendable (HTTPRequestHead) -> Bool, install: @escaping @Sendable (any Channel, HTTPRequestHead) throws -> Void) {
        self.accept = accept
        self.install = install
    }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        guard accept(upgradeRequest), upgradeRequest.headers["X-Stream-Protocol-Version"].contains("portforward.k8s.io") else {
            return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
        }
        var headers = initialResponseHeaders
        headers.add(name: "X-Stream-Protocol-Version", value: "portforward.k8s.io")
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        let install = install
        return channel.pipeline.removeHandler(name: "api").flatMapThrowing {
            try install(channel, upgradeRequest)
        }
    }
}

final class ServerSPDYPortForwardHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let pod: String
    private let encoder: SPDYFrameEncoder
    private let decoder: SPDYFrameDecoder
    private var upstream: (any Channel)?
    private var pending: [ByteBuffer] = []
    private var dataStream: UInt32?
    private var errorStream: UInt32?
    private var finishedUpstream = false

    init(pod: String) throws {
        self.pod = pod
        encoder = try SPDYFrameEncoder()
        decoder = try SPDYFrameDecoder()
    }

    private func send(_ frames: [SPDYFrame], context: ChannelHandlerContext) {
        var bytes: [UInt8] = []
        for frame in frames { try? encoder.encode(frame, into: &bytes) }
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.feed(unwrapInboundIn(data).readableBytesView)
        while let frame = try? decoder.nextFrame() {
            switch frame {
            case .synStream(let syn):
                send([.synReply(streamID: syn.streamID, fin: false, headers: [:])], context: context)
                let port = Int(syn.headers["port"] ?? "") ?? 0
                if syn.headers["streamtype"] == "error" {
                    errorStream = syn.streamID
                } else if syn.headers["streamtype"] == "data" {
                    dataStream = syn.streamID
                    dial(port: port, context: context)
                }
            case .data(let id, let fin, let payload) where id == dataStream:
                let buffer = context.channel.allocator.buffer(bytes: payload)
                if let upstream {
                    if !payload.isEmpty { upstream.writeAndFlush(buffer, promise: nil) }
                    if fin { upstream.close(mode: .output, promise: nil) }
                } else if !payload.isEmpty {
                    pending.append(buffer)
                }
            case .ping(let id):
                send([.ping(id: id)], context: context)
            default:
                break
            }
        }
    }

    private func dial(port: Int, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let spdyChannel = context.channel
        ClientBootstrap(group: context.eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { tcp in
                tcp.eventLoop.makeCompletedFuture {
                    try tcp.pipeline.syncOperations.addHandler(Upstream(onData: { bytes in
                        let (handler, context) = bound.value
                        handler.send([.data(streamID: handler.dataStream ?? 0, fin: false, payload: bytes)], context: context)
                    }, onEnd: {
                        let (handler, context) = bound.value
                        guard !handler.finishedUpstream else { return }
                        handler.finishedUpstream = true
                        handler.send([.data(streamID: handler.dataStream ?? 0, fin: true, payload: [])], context: context)
                    }))
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .whenComplete { result in
                let (handler, context) = bound.value
                switch result {
                case .success(let tcp):
                    handler.upstream = tcp
                    for chunk in handler.pending { tcp.write(chunk, promise: nil) }
                    tcp.flush()
                    handler.pending = []
                    spdyChannel.closeFuture.whenComplete { _ in tcp.close(promise: nil) }
                case .failure:
                    let text = "error forwarding port \(port) to pod \(handler.pod), uid : failed to execute portforward in network namespace: failed to connect to localhost:\(port) inside namespace: connection refused"
                    handler.send([.data(streamID: handler.errorStream ?? 1, fin: true, payload: Array(text.utf8))], context: context)
                }
            }
    }

    func channelInactive(context: ChannelHandlerContext) {
        upstream?.close(promise: nil)
        context.fireChannelInactive()
    }

    final class Upstream: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let onData: ([UInt8]) -> Void
        let onEnd: () -> Void
        init(onData: @escaping ([UInt8]) -> Void, onEnd: @escaping () -> Void) {
            self.onData = onData
            self.onEnd = onEnd
        }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            onData(Array(unwrapInboundIn(data).readableBytesView))
        }
        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case ChannelEvent.inputClosed = event { onEnd() }
            context.fireUserInboundEventTriggered(event)
        }
        func channelInactive(context: ChannelHandlerContext) {
            onEnd()
            context.fireChannelInactive()
        }
    }
}
