import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The first handler of each downstream stream: on the request's HEADERS it asks where the
/// stream goes, opens the answering upstream's stream (pairing the two `HTTP2StreamRelay`s) and a
/// copy stream per wiretap, then hands every request frame to the relay and to the copies.
final class HTTP2RequestRouting: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias InboundOut = HTTP2Frame.FramePayload

    private let connection: HTTP2SplitterConnection
    private let relay = HTTP2StreamRelay()
    private var routed = false
    private var copies: [HTTP2CopyStream] = []

    init(connection: HTTP2SplitterConnection) { self.connection = connection }

    func handlerAdded(context: ChannelHandlerContext) {
        do {
            try context.pipeline.syncOperations.addHandler(relay, position: .after(self))
        } catch {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        if !routed, case .headers(let head) = payload {
            routed = true
            route(context: context, headers: head.headers)
        }
        for copy in copies { copy.send(payload) }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A request that was cut short is cut short on the copies too; a whole one lets them run.
        if !relay.inboundEnded || relay.resetCode != nil {
            for copy in copies { copy.cancel() }
        }
        copies = []
        context.fireChannelInactive()
    }

    private func route(context: ChannelHandlerContext, headers: HPACKHeaders) {
        let route = connection.route(HTTP2Splitter.summary(of: headers))
        copies = route.copies.compactMap { connection.copyTarget($0)?.openStream() }
        let downstream = context.channel
        // Frames that come before the upstream's stream exists are held by the relay; no more are read.
        downstream.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let relay = self.relay
        let upstreamRelay = HTTP2StreamRelay()
        let logger = connection.logger
        connection.answerStream(to: route.answer) { upstream in
            upstream.eventLoop.makeCompletedFuture { try upstream.pipeline.syncOperations.addHandler(upstreamRelay) }
        }.whenComplete { result in
            switch result {
            case .success(let upstream):
                upstreamRelay.pair(partner: downstream, relay: relay)
                relay.pair(partner: upstream, relay: upstreamRelay)
            case .failure(let error):
                logger.info("HTTP/2 stream to \(route.answer) failed: \(error)")
                relay.answerBadGateway()
            }
        }
    }
}

/// One side of a relayed stream pair (downstream client stream and upstream stream): what it
/// reads (HEADERS, DATA, trailers) is written to its partner, reading pauses while the partner
/// cannot take more (HTTP/2 flow control does the rest), and a stream that ends early or is
/// reset resets its partner with the same code.
final class HTTP2StreamRelay: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    private var context: ChannelHandlerContext?
    private var partner: (any Channel)?
    private var partnerRelay: HTTP2StreamRelay?
    private var held: [HTTP2Frame.FramePayload] = []
    private var active = true
    private var discarding = false
    /// This side's peer sent END_STREAM.
    private(set) var inboundEnded = false
    /// This side's peer reset the stream, with this code.
    private(set) var resetCode: HTTP2ErrorCode?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Starts relaying to `partner` (whose relay is `relay`): what was held goes first.
    func pair(partner: any Channel, relay: HTTP2StreamRelay) {
        guard let context, active else {
            // This side is gone already: so is the partner's reason to exist.
            partner.writeAndFlush(HTTP2Frame.FramePayload.rstStream(resetCode ?? .cancel), promise: nil)
            return
        }
        self.partner = partner
        self.partnerRelay = relay
        for payload in held { partner.write(payload, promise: nil) }
        held = []
        partner.flush()
        Self.setAutoRead(context.channel, partner.isWritable)
    }

    /// An HTTP/2 stream channel does not read when autoRead turns on (a socket channel does): the
    /// frames it holds would wait there, a request's body behind its HEADERS forever. So ask.
    static func setAutoRead(_ channel: any Channel, _ on: Bool) {
        channel.setOption(ChannelOptions.autoRead, value: on).whenComplete { _ in }
        if on { channel.read() }
    }

    /// No upstream could be reached: answer 502 (gRPC clients read it as UNAVAILABLE).
    func answerBadGateway() {
        discarding = true
        held = []
        guard let context, active else { return }
        let headers = HPACKHeaders([(":status", "502"), ("content-length", "0")])
        context.write(wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
        if !inboundEnded { context.write(wrapOutboundOut(.rstStream(.noError)), promise: nil) }
        context.flush()
        Self.setAutoRead(context.channel, true)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if headers.endStream { inboundEnded = true }
            forward(.headers(headers))
        case .data(let data):
            if data.endStream { inboundEnded = true }
            // Padding is the sender's business on its own hop.
            forward(.data(.init(data: data.data, endStream: data.endStream)))
        case .rstStream(let code):
            resetCode = code
        default:
            break
        }
    }

    private func forward(_ payload: HTTP2Frame.FramePayload) {
        guard !discarding else { return }
        // Flushed frame by frame: a stream channel's read-complete does not always follow its reads.
        if let partner { partner.writeAndFlush(payload, promise: nil) } else { held.append(payload) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.flush()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // What the partner reads is written here: it reads only while this side can take it.
        if let partner { Self.setAutoRead(partner, context.channel.isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let closed = error as? NIOHTTP2Errors.StreamClosed { resetCode = closed.errorCode }
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        if let partner, partnerRelay?.active ?? false {
            let complete = inboundEnded && (partnerRelay?.inboundEnded ?? false)
            if resetCode != nil || !complete {
                partner.writeAndFlush(HTTP2Frame.FramePayload.rstStream(resetCode ?? .cancel), promise: nil)
            }
        }
        partner = nil
        partnerRelay = nil
        held = []
        context.fireChannelInactive()
    }
}
