import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Joins a TCP socket channel and a tunnel stream that live on the same event loop: bytes,
/// half-closes and resets cross over, and back-pressure works both ways (a stream that is not
/// writable stops socket reads; a socket that is not writable pauses the stream, which stops
/// returning credit, which stops the peer after one window).
///
/// The socket channel needs `ChannelOptions.allowRemoteHalfClosure` so a FIN is not a close.
public final class TunnelSocketBridge: ChannelDuplexHandler, TunnelStreamDelegate {
    public typealias InboundIn = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// How the bridge gets its stream.
    public enum Mode {
        /// The stream came from a peer's OPEN and this socket was dialed for it: accept the
        /// stream when the socket is connected.
        case dialed(TunnelStream)
        /// This socket was accepted locally: open a stream for `flow` with the socket's first
        /// bytes as the OPEN's initial data, waiting at most `firstDataWait` for them (protocols
        /// where the server speaks first pay this once per connection).
        case opening(TunnelMultiplexer, TunnelFlow, firstDataWait: TimeAmount)
    }

    private var mode: Mode
    private var stream: TunnelStream?
    private var context: ChannelHandlerContext?
    private var readPending = false
    private var inputClosed = false
    private var outputClosed = false
    private var socketFailed = false
    private var done = false
    private var firstData: ByteBuffer?
    private var openTimer: Scheduled<Void>?

    public init(mode: Mode) {
        self.mode = mode
        if case .dialed(let stream) = mode { self.stream = stream }
    }

    // MARK: Socket side

    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        stream?.delegate = self
        if context.channel.isActive { activate(context: context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        activate(context: context)
        context.fireChannelActive()
    }

    private func activate(context: ChannelHandlerContext) {
        switch mode {
        case .dialed(let stream):
            do {
                try stream.accept()
                stream.resumeReading()
            } catch {
                abortSocket()
            }
        case .opening(_, _, let wait):
            guard openTimer == nil, stream == nil else { return }
            openTimer = context.eventLoop.assumeIsolated().scheduleTask(in: wait) { [self] in
                openStream()
            }
        }
    }

    private func openStream() {
        guard stream == nil, !done, case .opening(let mux, let flow, _) = mode else { return }
        openTimer?.cancel()
        openTimer = nil
        do {
            stream = try mux.openStream(flow: flow, initialData: firstData ?? ByteBuffer(), fin: inputClosed, delegate: self)
            firstData = nil
        } catch {
            abortSocket()
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let stream else {
            // Still opening: these bytes become the OPEN's initial data.
            if firstData == nil { firstData = bytes } else { var b = bytes; firstData!.writeBuffer(&b) }
            openStream()
            return
        }
        do {
            try stream.write(bytes, flush: false)
        } catch {
            abortSocket()
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        stream?.flush()
        context.fireChannelReadComplete()
    }

    public func read(context: ChannelHandlerContext) {
        if let stream, !stream.isWritable {
            readPending = true
        } else {
            context.read()
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            localEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func localEOF() {
        guard !inputClosed else { return }
        inputClosed = true
        if stream == nil {
            openStream()
        } else {
            stream?.finish()
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stream?.resumeReading()
        } else {
            stream?.pauseReading()
        }
        context.fireChannelWritabilityChanged()
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        socketFailed = true
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        openTimer?.cancel()
        if !done {
            done = true
            if socketFailed || !outputClosed {
                stream?.reset(.connectionReset)
            } else {
                // EOF after our own half-close escalates to a full close without `inputClosed`.
                stream?.finish()
            }
        }
        context.fireChannelInactive()
    }

    /// Closes the socket with RST (SO_LINGER 0), so the local program sees the failure at once.
    private func abortSocket() {
        guard let context, !done else { return }
        done = true
        let channel = context.channel
        if let provider = channel as? any SocketOptionProvider {
            provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
        } else {
            channel.close(promise: nil)
        }
    }

    /// Closes (one direction or all) after the bytes already written reached the socket.
    private func closeAfterWrites(_ mode: CloseMode) {
        guard let context else { return }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(ByteBuffer()), promise: promise)
        let channel = context.channel
        promise.futureResult.whenComplete { _ in channel.close(mode: mode, promise: nil) }
    }

    // MARK: Stream side

    public func tunnelStream(_ stream: TunnelStream, didReceive bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }

    public func tunnelStreamReadComplete(_ stream: TunnelStream) {
        context?.flush()
    }

    public func tunnelStreamDidReceiveFIN(_ stream: TunnelStream) {
        guard !outputClosed, !done else { return }
        outputClosed = true
        closeAfterWrites(inputClosed ? .all : .output)
    }

    public func tunnelStream(_ stream: TunnelStream, openFailed reason: TunnelOpenFailure, message: String) {
        abortSocket()
    }

    public func tunnelStream(_ stream: TunnelStream, didReset reason: TunnelResetReason) {
        abortSocket()
    }

    public func tunnelStreamWritabilityChanged(_ stream: TunnelStream) {
        if stream.isWritable, readPending, let context {
            readPending = false
            context.read()
        }
    }

    public func tunnelStreamDidClose(_ stream: TunnelStream) {
        guard !done else { return }
        done = true
        closeAfterWrites(.all)
    }
}
