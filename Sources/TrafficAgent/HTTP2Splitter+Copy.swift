import Logging
import NIOCore
import NIOHTTP2

/// A wiretap on one downstream connection: one HTTP/2 connection to its workstation carrying a
/// copy of each request, whose answers are read and discarded. Bytes written and not yet sent
/// (held while dialling, or queued behind HTTP/2 flow control and the socket) are counted; past
/// `HTTP2Splitter.copyBound`, or when the connection cannot be made, the copy is cut for the
/// rest of this downstream connection and the provider told once. The answered stream never
/// waits for a copy.
final class HTTP2CopyTarget: @unchecked Sendable {
    let upstream: HTTPUpstream
    private let connection: HTTP2SplitterConnection
    private var upstreamConnection: EventLoopFuture<HTTP2UpstreamConnection>?
    private var pendingBytes = 0
    private(set) var isCut = false

    init(upstream: HTTPUpstream, connection: HTTP2SplitterConnection) {
        self.upstream = upstream
        self.connection = connection
    }

    /// A stream for one request's copy.
    func openStream() -> HTTP2CopyStream {
        let stream = HTTP2CopyStream(target: self)
        connectionFuture().flatMap { $0.openStream { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(DiscardAnswer()) }
        } }.whenComplete { result in
            switch result {
            case .success(let channel): stream.opened(channel)
            case .failure: stream.cancel()
            }
        }
        return stream
    }

    private func connectionFuture() -> EventLoopFuture<HTTP2UpstreamConnection> {
        if let upstreamConnection { return upstreamConnection }
        let future = connection.dial(upstream)
        upstreamConnection = future
        future.whenComplete { result in
            switch result {
            case .failure(let error):
                self.cut(reason: "the wiretap's workstation could not be reached (\(error))")
            case .success(let dialled):
                // A connection its peer closed is dialled again by the next copy.
                dialled.channel.closeFuture.whenComplete { _ in
                    if self.upstreamConnection === future { self.upstreamConnection = nil }
                }
            }
        }
        return future
    }

    /// `bytes` more are waiting to go out; false once cut.
    func account(_ bytes: Int) -> Bool {
        guard !isCut else { return false }
        pendingBytes += bytes
        if pendingBytes > HTTP2Splitter.copyBound {
            cut(reason: "the wiretap's workstation read too slowly: more than \(HTTP2Splitter.copyBound / 1024) KiB of copies were waiting; copies on this connection stopped")
            return false
        }
        return true
    }

    /// `bytes` went out (or were dropped).
    func settle(_ bytes: Int) { pendingBytes -= bytes }

    func cut(reason: String) {
        guard !isCut else { return }
        isCut = true
        // A dial that fails after the downstream connection ended is nobody's news.
        guard !connection.isClosed else { return close() }
        connection.logger.info("wiretap copy to \(upstream) on port \(connection.agentPort) cut: \(reason)")
        close()
        connection.provider.copyCut(upstream, reason: reason)
    }

    func close() {
        upstreamConnection?.whenSuccess { $0.channel.close(promise: nil) }
        upstreamConnection = nil
    }
}

/// One request's copy: frames are held until its stream exists, then written without waiting.
final class HTTP2CopyStream: @unchecked Sendable {
    private let target: HTTP2CopyTarget
    private var channel: (any Channel)?
    private var held: [(HTTP2Frame.FramePayload, Int)] = []
    private var cancelled = false

    init(target: HTTP2CopyTarget) { self.target = target }

    func send(_ payload: HTTP2Frame.FramePayload) {
        let copy: HTTP2Frame.FramePayload
        let size: Int
        switch payload {
        case .headers(let headers):
            copy = payload
            // HPACK's own measure of a field (RFC 7541 §4.1).
            size = headers.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 32 }
        case .data(let data):
            copy = .data(.init(data: data.data, endStream: data.endStream))
            size = data.data.readableBytes
        default:
            return
        }
        guard !cancelled, target.account(size) else {
            cancel()
            return
        }
        if let channel { write(copy, size: size, on: channel) } else { held.append((copy, size)) }
    }

    func opened(_ channel: any Channel) {
        guard !cancelled, !target.isCut else {
            channel.close(promise: nil)
            return
        }
        self.channel = channel
        for (payload, size) in held { write(payload, size: size, on: channel) }
        held = []
    }

    private func write(_ payload: HTTP2Frame.FramePayload, size: Int, on channel: any Channel) {
        let target = self.target
        channel.writeAndFlush(payload).whenComplete { _ in target.settle(size) }
    }

    /// The request was cut short, or the copy was: the copy's stream is reset.
    func cancel() {
        guard !cancelled else { return }
        cancelled = true
        for (_, size) in held { target.settle(size) }
        held = []
        channel?.close(promise: nil)
    }
}

/// Reads a copy's answer and drops it (reading keeps the workstation's window open).
final class DiscardAnswer: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTP2Frame.FramePayload
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
