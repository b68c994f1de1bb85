// The sandbox's test app (image `sandbox.local/echo`): an HTTP server on $HTTP_PORT (8080)
// that answers every request with JSON describing it (method, path, query, headers, body, the
// pod's name and the variables named in $ECHO_ENV), a TCP echo on $TCP_PORT (9000) and a UDP
// echo on $UDP_PORT (9001). It exits on SIGTERM, as a well-behaved container does.
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import UnixSignals

let environment = ProcessInfo.processInfo.environment
func port(_ name: String, _ fallback: Int) -> Int { environment[name].flatMap(Int.init) ?? fallback }
let podName = environment["POD_NAME"] ?? ProcessInfo.processInfo.hostName
let echoedVariables = (environment["ECHO_ENV"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }

/// Answers each request with a JSON description of it.
final class HTTPEcho: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            head = request
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            let parts = head.uri.split(separator: "?", maxSplits: 1)
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name] = headers[name].map { "\($0),\(value)" } ?? value }
            var env: [String: String] = [:]
            for name in echoedVariables { env[name] = environment[name] ?? "" }
            let description: [String: Any] = [
                "method": head.method.rawValue, "path": String(parts.first ?? "/"),
                "query": parts.count > 1 ? String(parts[1]) : "", "headers": headers,
                "body": body.getString(at: body.readerIndex, length: body.readableBytes) ?? "", "pod": podName, "env": env,
            ]
            let json = (try? JSONSerialization.data(withJSONObject: description, options: [.sortedKeys])) ?? Data("{}".utf8)
            var responseHeaders = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", String(json.count + 1))])
            if !head.isKeepAlive { responseHeaders.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: responseHeaders))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: json.count + 1)
            buffer.writeBytes(json)
            buffer.writeString("\n")
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            let keepAlive = head.isKeepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
            self.head = nil
        }
    }
}

/// Writes back what it reads (TCP). Reading pauses while the peer is slower than its own
/// sending (writes pile up otherwise), and the client's FIN is answered with ours only after
/// every byte read before it went back: a client that sends, shuts down its side and then
/// drains gets all its bytes.
final class StreamEcho: ChannelDuplexHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.write(data, promise: nil) }
    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.channel.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenComplete { _ in }
        context.fireChannelWritabilityChanged()
    }
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case .some(ChannelEvent.inputClosed) = event as? ChannelEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Writes complete in order: once this empty one has, everything before it is out.
        let channel = context.channel
        context.writeAndFlush(NIOAny(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
    }
}

/// Sends each datagram back to its sender (UDP).
final class DatagramEcho: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: envelope.data)), promise: nil)
    }
}

/// A line on stdout, unbuffered (the node's log pump sees it at once).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
do {
    let http = try await ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.pipeline.configureHTTPServerPipeline().flatMap { channel.pipeline.addHandler(HTTPEcho()) }
        }
        .bind(host: "0.0.0.0", port: port("HTTP_PORT", 8080)).get()
    let tcp = try await ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.allowRemoteHalfClosure, value: true)
        .childChannelInitializer { channel in channel.pipeline.addHandler(StreamEcho()) }
        .bind(host: "0.0.0.0", port: port("TCP_PORT", 9000)).get()
    let udp = try await DatagramBootstrap(group: group)
        .channelInitializer { channel in channel.pipeline.addHandler(DatagramEcho()) }
        .bind(host: "0.0.0.0", port: port("UDP_PORT", 9001)).get()
    say("sandbox-echo \(podName): HTTP on \(http.localAddress?.port ?? 0), TCP echo on \(tcp.localAddress?.port ?? 0), UDP echo on \(udp.localAddress?.port ?? 0)")
    for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
        say("sandbox-echo: signal \(signal.rawValue), stopping")
        break
    }
    for channel in [http, tcp, udp] { _ = try? await channel.close().get() }
    try await group.shutdownGracefully()
} catch {
    FileHandle.standardError.write(Data("sandbox-echo: \(error)\n".utf8))
    exit(1)
}
