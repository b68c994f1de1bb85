import NIOCore

/// Removes the first SETTINGS ACK from the frames an HTTP/2 server sends (no I/O).
///
/// After an h2c upgrade the server reads the client's HTTP2-Settings as a SETTINGS frame
/// (`H2CUpgradeRequest.prelude`), and NIOHTTP2 acknowledges it; but the 101 already acknowledged
/// those settings (RFC 7540 §3.2.1), and a client counts ACKs against the SETTINGS frames it sent
/// (nghttp2 treats an extra one as a protocol error). The server's first ACK answers that
/// synthetic frame: it is the one dropped.
public struct FirstSettingsAckFilter: Sendable {
    private var header: [UInt8] = []
    private var remainingInFrame = 0
    /// The ACK is gone: everything else passes untouched.
    public private(set) var done = false

    public init() {}

    /// The bytes of `buffer` that go on to the client.
    public mutating func filter(_ buffer: ByteBuffer) -> ByteBuffer {
        guard !done else { return buffer }
        var input = buffer
        var output = ByteBuffer()
        output.reserveCapacity(input.readableBytes)
        while input.readableBytes > 0 && !done {
            if remainingInFrame > 0 {
                var slice = input.readSlice(length: min(remainingInFrame, input.readableBytes))!
                remainingInFrame -= slice.readableBytes
                output.writeBuffer(&slice)
                continue
            }
            header += input.readBytes(length: min(9 - header.count, input.readableBytes))!
            guard header.count == 9 else { continue }
            let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
            let isSettingsAck = header[3] == 0x4 && header[4] & 0x1 != 0 && length == 0
            if isSettingsAck {
                done = true
            } else {
                output.writeBytes(header)
                remainingInFrame = length
            }
            header = []
        }
        output.writeBuffer(&input)
        return output
    }
}

/// `FirstSettingsAckFilter` on a channel: below the HTTP/2 handler, on the way out.
final class FirstSettingsAckFilterHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData
    private var filter = FirstSettingsAckFilter()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !filter.done, case .byteBuffer(let buffer) = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let passed = filter.filter(buffer)
        if passed.readableBytes == 0 {
            promise?.succeed()
        } else {
            context.write(wrapOutboundOut(.byteBuffer(passed)), promise: promise)
        }
    }
}

/// Puts the upgrade's prelude (`H2CUpgradeRequest.prelude`) right after the client's 24-byte
/// connection preface, so the HTTP/2 handler reads preface, HTTP2-Settings, stream 1, then the
/// client's own frames.
final class H2CUpgradeSplice: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private var prefaceLeft = HTTP2Preface.bytes.count
    private var prelude: ByteBuffer?

    init(prelude: ByteBuffer) { self.prelude = prelude }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let prelude else {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        let preface = bytes.readSlice(length: min(prefaceLeft, bytes.readableBytes))!
        prefaceLeft -= preface.readableBytes
        if preface.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(preface)) }
        guard prefaceLeft == 0 else { return }
        self.prelude = nil
        context.fireChannelRead(wrapInboundOut(prelude))
        if bytes.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(bytes)) }
    }
}
