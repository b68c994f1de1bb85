import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

/// Opens byte channels to the API server exactly as the kubeconfig says: TCP to `server` (or to
/// the HTTP CONNECT proxy, then a tunnel), then TLS with the configured trust, SNI, verified name
/// and client certificate. HTTP and WebSocket layers are added by the caller on the returned
/// channel, so both share this one code path.
struct Connector: Sendable {
    let server: ServerAddress
    let tls: TLSSettings
    let proxy: ProxyAddress?
    let group: any EventLoopGroup
    let connectTimeout: TimeAmount
    private let contexts: TLSContextCache

    init(configuration: ClientConfiguration, group: any EventLoopGroup) {
        self.server = configuration.server
        self.tls = configuration.tls
        self.proxy = configuration.proxy
        self.group = group
        let timeout = configuration.requestTimeout.map { TimeAmount.nanoseconds(Self.nanoseconds($0)) } ?? .seconds(30)
        self.connectTimeout = min(timeout, .seconds(30))
        self.contexts = TLSContextCache(settings: configuration.tls)
    }

    /// The name sent as SNI and checked against the certificate: `tls-server-name`, else the
    /// server's host unless it is an IP literal (then the certificate's IP SANs are checked
    /// against the address connected to).
    var verifiedServerName: String? {
        if let name = tls.serverName, !name.isEmpty { return name }
        return Self.isIPLiteral(server.host) ? nil : server.host
    }

    /// A connected (and, for https, TLS-established) channel with nothing else in its pipeline,
    /// on `eventLoop` if given.
    func connect(clientCertificate: ClientCertificate?, on eventLoop: (any EventLoop)? = nil) async throws -> any Channel {
        let sslContext: NIOSSLContext? = server.scheme == .https ? try contexts.context(presenting: clientCertificate) : nil
        let (host, port) = proxy.map { ($0.host, $0.port) } ?? (server.host, server.port)
        let bootstrap = ClientBootstrap(group: eventLoop ?? group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw mapConnectError(error, throughProxy: proxy != nil)
        }
        do {
            if let proxy {
                let tunnel = channel.eventLoop.makePromise(of: Void.self)
                try await channel.eventLoop.submit {
                    try channel.pipeline.syncOperations.addHandler(ProxyConnectHandler(
                        targetHost: server.host, targetPort: server.port,
                        basicCredentials: proxy.basicCredentials, promise: tunnel))
                }.get()
                do {
                    try await withDeadline(tunnel.futureResult, channel: channel)
                } catch let refused as ProxyConnectHandler.Refused {
                    throw KubeError.proxyFailed(proxy: "\(proxy.host):\(proxy.port)", reason: refused.statusLine)
                }
            }
            if let sslContext {
                let handshake = channel.eventLoop.makePromise(of: Void.self)
                let serverName = verifiedServerName
                try await channel.eventLoop.submit {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    try sync.addHandler(TLSHandshakeWaiter(promise: handshake))
                }.get()
                try await withDeadline(handshake.futureResult, channel: channel)
            }
            return channel
        } catch {
            channel.close(promise: nil)
            throw mapEarlyFailure(error, presenting: clientCertificate)
        }
    }

    /// Maps a failure of a fresh connection before any answer arrived.
    func mapEarlyFailure(_ error: any Error, presenting clientCertificate: ClientCertificate?) -> any Error {
        if server.scheme == .https, (clientCertificate ?? tls.clientCertificate) != nil, Self.isClosedEarly(error) {
            return Self.clientCertificateRefused(server: server)
        }
        return mapConnectError(error, throughProxy: proxy != nil)
    }

    /// Under TLS 1.3 a server refuses a client certificate only after the handshake, and its
    /// alert is often lost to the connection reset that follows: a connection closed that early
    /// while presenting a certificate is reported as a refused certificate.
    static func clientCertificateRefused(server: ServerAddress) -> KubeError {
        .clientCertificateRejected(
            server: server.description,
            reason: "it closed the connection right after the TLS handshake, as servers do with a client certificate they do not trust")
    }

    /// A connection that ended before any answer (EOF, reset, or TLS without close_notify).
    static func isClosedEarly(_ error: any Error) -> Bool {
        if let channelError = error as? ChannelError {
            return channelError == .eof || channelError == .ioOnClosedChannel || channelError == .alreadyClosed
        }
        if case .uncleanShutdown? = error as? NIOSSLError { return true }
        if let io = error as? IOError { return io.errnoCode == ECONNRESET || io.errnoCode == EPIPE }
        return false
    }

    private func withDeadline(_ future: EventLoopFuture<Void>, channel: any Channel) async throws {
        let timer = channel.eventLoop.scheduleTask(in: connectTimeout) {
            channel.pipeline.fireErrorCaught(ChannelError.connectTimeout(connectTimeout))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        try await future.get()
    }

    /// Turns NIO and BoringSSL errors into the sentences of `KubeError`.
    func mapConnectError(_ error: any Error, throughProxy: Bool) -> any Error {
        if error is KubeError || error is CancellationError { return error }
        let serverText = server.description
        if let proxy, throughProxy, let refused = error as? ProxyConnectHandler.Refused {
            return KubeError.proxyFailed(proxy: "\(proxy.host):\(proxy.port)", reason: refused.statusLine)
        }
        if case ChannelError.connectTimeout = error { return KubeError.timedOut(server: serverText, after: nil) }
        if let connectionError = error as? NIOConnectionError {
            let errors = connectionError.connectionErrors.map(\.error)
            if let io = errors.compactMap({ $0 as? IOError }).first {
                return mapErrno(io.errnoCode, through: throughProxy)
            }
            if let first = errors.first { return mapConnectError(first, throughProxy: throughProxy) }
            if connectionError.dnsAError != nil || connectionError.dnsAAAAError != nil {
                let host = proxy?.host ?? server.host
                return KubeError.unreachable(server: serverText, reason: "the name \(host) cannot be resolved")
            }
        }
        if let io = error as? IOError { return mapErrno(io.errnoCode, through: throughProxy) }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return KubeError.certificateNameMismatch(server: serverText, expectedName: verifiedServerName ?? server.host)
        }
        if error is NIOSSLError || error is BoringSSLError {
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                let reason = text.contains("self signed") || text.contains("SELF_SIGNED")
                    ? "it is self-signed" : "it is not signed by a trusted certificate authority"
                return KubeError.certificateNotTrusted(server: serverText, reason: reason)
            }
            if text.contains("ALERT") || text.contains("CERTIFICATE_REQUIRED") {
                return KubeError.clientCertificateRejected(server: serverText, reason: Self.alertName(text))
            }
            if case .uncleanShutdown? = error as? NIOSSLError { return KubeError.connectionClosed(server: serverText) }
            return KubeError.tlsFailed(server: serverText, reason: text)
        }
        if let channelError = error as? ChannelError, channelError == .ioOnClosedChannel || channelError == .eof {
            return KubeError.connectionClosed(server: serverText)
        }
        return KubeError.tlsFailed(server: serverText, reason: "\(error)")
    }

    private func mapErrno(_ code: Int32, through proxied: Bool) -> KubeError {
        let target = proxied ? "proxy \(proxy!.host):\(proxy!.port) for \(server)" : server.description
        switch code {
        case ECONNREFUSED: return .connectionRefused(server: target)
        case ETIMEDOUT: return .timedOut(server: target, after: nil)
        case ENETUNREACH: return .unreachable(server: target, reason: "network unreachable")
        case EHOSTUNREACH: return .unreachable(server: target, reason: "no route to host")
        default: return .unreachable(server: target, reason: String(cString: strerror(code)))
        }
    }

    private static func alertName(_ text: String) -> String {
        for alert in ["CERTIFICATE_REQUIRED", "UNKNOWN_CA", "BAD_CERTIFICATE", "HANDSHAKE_FAILURE", "CERTIFICATE_UNKNOWN"] where text.contains(alert) {
            return "TLS alert \(alert.lowercased().replacingOccurrences(of: "_", with: " "))"
        }
        return text
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Completes a promise when the TLS handshake finishes (or fails), so connection setup can
/// report certificate problems itself instead of as a failure of the first request.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private var promise: EventLoopPromise<Void>?

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            promise?.succeed(())
            promise = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.eof)
        promise = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
        promise = nil
    }
}
