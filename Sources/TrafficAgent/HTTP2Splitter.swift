import HTTP2Cleartext
import Logging
import NIOCore
import NIOHPACK
import NIOHTTP2

/// Serves an HTTP/2 cleartext connection on an engaged port stream by stream: each stream goes
/// where `provider.route` says, over one HTTP/2 connection per upstream, with copies to wiretaps.
public enum HTTP2Splitter {
    /// How many bytes a wiretap's copies on one downstream connection may hold unsent before the
    /// copy is cut (a workstation that reads too slowly must not grow the agent's memory).
    /// The same bound as every other wiretap copy's (`WiretapCopy.bound`).
    static let copyBound = WiretapCopy.bound

    /// Takes over `downstream` (a child channel of an agent port, autoRead off, whose handlers the
    /// HTTP/1.1 reader has removed) from how it began.
    public static func serve(
        downstream: any Channel, start: HTTP2Start, agentPort: Int, provider: any HTTPUpstreamProvider, logger: Logger
    ) {
        let work = {
            let connection = HTTP2SplitterConnection(loop: downstream.eventLoop, agentPort: agentPort, provider: provider, logger: logger)
            let upgrade: H2CUpgradeRequest?
            let received: ByteBuffer
            switch start {
            case .priorKnowledge(let buffered):
                (upgrade, received) = (nil, buffered)
            case .upgrade(let method, let target, let headers, let body, let rest):
                (upgrade, received) = (H2CUpgradeRequest(method: method, target: target, headers: headers, body: body), rest)
            }
            do {
                try H2CConnection.serve(channel: downstream, upgrade: upgrade, received: received) { stream in
                    stream.eventLoop.makeCompletedFuture {
                        try stream.pipeline.syncOperations.addHandler(HTTP2RequestRouting(connection: connection))
                    }
                }
            } catch let error as H2CUpgradeError {
                logger.info("h2c upgrade on port \(agentPort) refused: \(error)")
                downstream.writeAndFlush(ByteBuffer(string: error.badRequest)).whenComplete { _ in downstream.close(promise: nil) }
                return
            } catch {
                logger.warning("HTTP/2 on port \(agentPort) could not start: \(error)")
                downstream.close(promise: nil)
                return
            }
            downstream.closeFuture.whenComplete { _ in connection.close() }
        }
        if downstream.eventLoop.inEventLoop { work() } else { downstream.eventLoop.execute(work) }
    }

    /// What a filter looks at in a stream's request HEADERS: `:path` without its query, the
    /// regular fields, and `:authority` as `host`.
    static func summary(of headers: HPACKHeaders) -> HTTPRequestSummary {
        let path = headers.first(name: ":path") ?? ""
        var fields = headers.filter { !$0.name.hasPrefix(":") }.map { (name: $0.name, value: $0.value) }
        if let authority = headers.first(name: ":authority"), !fields.contains(where: { $0.name == "host" }) {
            fields.append((name: "host", value: authority))
        }
        return HTTPRequestSummary(
            method: headers.first(name: ":method") ?? "",
            path: String(path.prefix { $0 != "?" }),
            headers: fields
        )
    }
}

/// An HTTP/2 client connection to one upstream (the app, or a workstation over its tunnel).
struct HTTP2UpstreamConnection {
    let channel: any Channel
    let multiplexer: NIOHTTP2Handler.StreamMultiplexer

    func openStream(_ initializer: @escaping NIOChannelInitializer) -> EventLoopFuture<any Channel> {
        multiplexer.createStreamChannel(initializer)
    }
}

/// One downstream connection's upstreams: a connection per answering upstream, dialled on first
/// use and reused by every stream routed there, and a `HTTP2CopyTarget` per wiretap. Confined to
/// the downstream's event loop (the provider's channels share it).
final class HTTP2SplitterConnection: @unchecked Sendable {
    let loop: any EventLoop
    let agentPort: Int
    let provider: any HTTPUpstreamProvider
    let logger: Logger
    private var answers: [HTTPUpstream: EventLoopFuture<HTTP2UpstreamConnection>] = [:]
    private var copies: [HTTPUpstream: HTTP2CopyTarget] = [:]
    private(set) var isClosed = false

    init(loop: any EventLoop, agentPort: Int, provider: any HTTPUpstreamProvider, logger: Logger) {
        self.loop = loop
        self.agentPort = agentPort
        self.provider = provider
        self.logger = logger
    }

    func route(_ request: HTTPRequestSummary) -> HTTPRequestRoute {
        provider.route(agentPort: agentPort, request: request)
    }

    /// A new stream toward `upstream`, its pipeline set up by `initializer`.
    func answerStream(to upstream: HTTPUpstream, _ initializer: @escaping NIOChannelInitializer) -> EventLoopFuture<any Channel> {
        loop.preconditionInEventLoop()
        if let connection = answers[upstream] {
            return connection.flatMap { $0.openStream(initializer) }
        }
        let connection = dial(upstream)
        answers[upstream] = connection
        // A connection that failed or closed is forgotten: the next stream dials again.
        connection.whenComplete { result in
            switch result {
            case .failure:
                if self.answers[upstream] === connection { self.answers[upstream] = nil }
            case .success(let upstreamConnection):
                upstreamConnection.channel.closeFuture.whenComplete { _ in
                    if self.answers[upstream] === connection { self.answers[upstream] = nil }
                }
            }
        }
        return connection.flatMap { $0.openStream(initializer) }
    }

    /// The copy target of a wiretap, or nil once cut on this connection.
    func copyTarget(_ upstream: HTTPUpstream) -> HTTP2CopyTarget? {
        loop.preconditionInEventLoop()
        if let target = copies[upstream] { return target.isCut ? nil : target }
        let target = HTTP2CopyTarget(upstream: upstream, connection: self)
        copies[upstream] = target
        return target
    }

    /// An HTTP/2 connection (prior knowledge) over `provider.connect(upstream)`, closed at once
    /// when this downstream connection is gone already.
    func dial(_ upstream: HTTPUpstream) -> EventLoopFuture<HTTP2UpstreamConnection> {
        provider.connect(upstream).hop(to: loop).flatMapThrowing { channel in
            do {
                guard !self.isClosed else { throw ChannelError.ioOnClosedChannel }
                // Stream channels of both connections are driven from one loop, without locks.
                guard channel.eventLoop.inEventLoop else { throw HTTP2SplitterError.otherEventLoop }
                return HTTP2UpstreamConnection(channel: channel, multiplexer: try H2CConnection.client(channel: channel))
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
    }

    /// The downstream connection ended: every upstream connection of it is closed.
    func close() {
        isClosed = true
        for connection in answers.values { connection.whenSuccess { $0.channel.close(promise: nil) } }
        for target in copies.values { target.close() }
        answers = [:]
        copies = [:]
    }
}

enum HTTP2SplitterError: Error, CustomStringConvertible {
    case otherEventLoop
    var description: String { "the upstream channel is not on the agent's event loop; connect upstreams on the downstream's loop" }
}
