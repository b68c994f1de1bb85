import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Asks a sandbox API server's `/readyz` over HTTPS, trusting only its CA; for `sandbox-cluster
/// up`, which must not return before the server answers.
public enum ReadinessProbe {
    /// True when `GET /readyz` answers 200 within `timeout`.
    public static func isReady(host: String, port: Int, caPEM: String, timeout: TimeAmount = .seconds(1)) async -> Bool {
        do {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
            tls.certificateVerification = .noHostnameVerification
            let context = try NIOSSLContext(configuration: tls)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                    }
                }
            return try await channel.executeThenClose { inbound, outbound in
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "\(host):\(port)")
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/readyz", headers: headers)))
                try await outbound.write(.end(nil))
                for try await part in inbound {
                    if case .head(let head) = part { return head.status == .ok }
                }
                return false
            }
        } catch {
            return false
        }
    }
}
