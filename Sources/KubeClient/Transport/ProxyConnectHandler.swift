import Foundation
import NIOCore

/// Opens a tunnel through an HTTP CONNECT proxy: writes `CONNECT host:port`, reads the proxy's
/// response head and, on a 2xx, removes itself so the next handler (TLS) talks to the target.
/// Works on raw bytes so no HTTP codec has to be added and removed around it.
final class ProxyConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Refused: Error { let statusLine: String }

    private let target: String
    private let basicCredentials: String?
    private let promise: EventLoopPromise<Void>
    private var received: ByteBuffer?
    private var done = false

    init(targetHost: String, targetPort: Int, basicCredentials: String?, promise: EventLoopPromise<Void>) {
        let host = targetHost.contains(":") ? "[\(targetHost)]" : targetHost
        self.target = "\(host):\(targetPort)"
        self.basicCredentials = basicCredentials
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendConnect(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendConnect(context: context)
        context.fireChannelActive()
    }

    private func sendConnect(context: ChannelHandlerContext) {
        var request = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let basicCredentials {
            request += "Proxy-Authorization: Basic \(Data(basicCredentials.utf8).base64EncodedString())\r\n"
        }
        request += "\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        var chunk = unwrapInboundIn(data)
        if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
        guard let all = received, let end = all.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else {
            if (received?.readableBytes ?? 0) > 16384 { fail(context: context, Refused(statusLine: "response head too large")) }
            return
        }
        let headLength = end.upperBound - all.readableBytesView.startIndex
        var rest = all
        let head = rest.readString(length: headLength) ?? ""
        received = nil
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]), (200..<300).contains(code) else {
            return fail(context: context, Refused(statusLine: statusLine))
        }
        done = true
        promise.succeed(())
        if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { done = true; promise.fail(Refused(statusLine: "the proxy closed the connection")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, error)
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        guard !done else { return context.fireErrorCaught(error) }
        done = true
        promise.fail(error)
        context.close(promise: nil)
    }
}
