import Foundation

/// Everything that can go wrong between this process and the API server, each case printable
/// as one sentence that tells the user what to do next.
public enum KubeError: Error, Sendable, CustomStringConvertible {
    /// The server answered with a `Status` error (404 NotFound, 409 Conflict, 422 Invalid, ...).
    case api(Status, RequestContext)
    /// The server answered with an error whose body is not a `Status` (a proxy's HTML page, ...).
    case unexpectedResponse(code: Int, body: String, RequestContext)
    /// Nothing listens at the server's address.
    case connectionRefused(server: String)
    /// The network cannot reach the server's address (no route, host down, DNS failure).
    case unreachable(server: String, reason: String)
    /// The connection or the request did not finish within the deadline.
    case timedOut(server: String, after: Duration?)
    /// The server's certificate chain does not lead to a trusted CA.
    case certificateNotTrusted(server: String, reason: String)
    /// The server's certificate is trusted but not issued for the name we checked it against.
    case certificateNameMismatch(server: String, expectedName: String)
    /// The server refused the TLS handshake, typically because of the client certificate.
    case clientCertificateRejected(server: String, reason: String)
    /// Any other TLS failure.
    case tlsFailed(server: String, reason: String)
    /// The kubeconfig's certificate authority or client certificate could not be loaded.
    case invalidTLSSettings(reason: String)
    /// The HTTP CONNECT proxy could not be used.
    case proxyFailed(proxy: String, reason: String)
    /// The server closed the connection before the response was complete.
    case connectionClosed(server: String)
    /// A response body could not be decoded as the expected type.
    case decodingFailed(what: String, reason: String)
    /// The caller asked for something the client cannot express (missing name, ...).
    case invalidArgument(String)
    /// A WebSocket upgrade (port-forward, exec) was refused or spoke an unknown protocol.
    case upgradeFailed(server: String, reason: String)
    /// The error channel of a port-forward stream reported a failure (text from the kubelet).
    case portForwardFailed(pod: String, port: Int, message: String)
    /// A stream broke its framing protocol.
    case streamProtocolViolation(String)

    /// Where a failed request went; used to phrase API errors.
    public struct RequestContext: Sendable, Hashable {
        public var method: String
        public var path: String
        public var server: String
        public var namespace: String?
        public var contextName: String?

        public init(method: String, path: String, server: String, namespace: String? = nil, contextName: String? = nil) {
            self.method = method
            self.path = path
            self.server = server
            self.namespace = namespace
            self.contextName = contextName
        }
    }

    /// The `Status` of an API error, when the server sent one.
    public var status: Status? {
        if case .api(let status, _) = self { return status }
        return nil
    }

    /// The HTTP status code of an API error.
    public var code: Int? {
        switch self {
        case .api(let status, _): status.code
        case .unexpectedResponse(let code, _, _): code
        default: nil
        }
    }

    private func hasReason(_ reason: String, orCode code: Int) -> Bool {
        if let status, status.reason == reason { return true }
        return self.code == code && (status?.reason == nil || status?.reason == "")
    }

    public var isNotFound: Bool { hasReason("NotFound", orCode: 404) }
    public var isConflict: Bool { status?.reason == "Conflict" || (code == 409 && status?.reason != "AlreadyExists") }
    public var isAlreadyExists: Bool { status?.reason == "AlreadyExists" }
    /// 410: a watch's or continue token's resourceVersion is too old (`Gone` or `Expired`).
    public var isGone: Bool { code == 410 || status?.reason == "Gone" || status?.reason == "Expired" }
    public var isUnauthorized: Bool { code == 401 }
    public var isForbidden: Bool { code == 403 }
    public var isInvalid: Bool { hasReason("Invalid", orCode: 422) }

    public var description: String {
        switch self {
        case .api(let status, let request):
            return Self.describe(status: status, request: request)
        case .unexpectedResponse(let code, let body, let request):
            let snippet = body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
            let text = snippet.isEmpty ? "an empty body" : "\"\(snippet)\""
            return "the API server at \(request.server) answered \(request.method) \(request.path) with HTTP \(code) and \(text); check that --server points at a Kubernetes API server and not at a proxy or load balancer page"
        case .connectionRefused(let server):
            return "cannot reach the API server at \(server) (connection refused); check that the cluster is running and that --server/--context are right"
        case .unreachable(let server, let reason):
            return "cannot reach the API server at \(server) (\(reason)); check your network, VPN and that --server/--context are right"
        case .timedOut(let server, let after):
            let limit = after.map { " within \(Self.format($0))" } ?? ""
            return "the API server at \(server) did not answer\(limit); check that the cluster is healthy and reachable, or raise --request-timeout"
        case .certificateNotTrusted(let server, let reason):
            return "the API server's certificate is not trusted (\(server): \(reason)); set certificate-authority in the kubeconfig or --insecure-skip-tls-verify"
        case .certificateNameMismatch(let server, let expected):
            return "the API server's certificate at \(server) is not valid for the name \"\(expected)\"; set tls-server-name in the kubeconfig to a name the certificate carries, or fix --server"
        case .clientCertificateRejected(let server, let reason):
            return "the API server at \(server) rejected the TLS handshake (\(reason)); check the client-certificate and client-key of the kubeconfig user"
        case .tlsFailed(let server, let reason):
            return "the TLS handshake with the API server at \(server) failed (\(reason)); check that --server uses the right scheme and port"
        case .invalidTLSSettings(let reason):
            return "the kubeconfig's TLS settings cannot be used (\(reason)); fix certificate-authority, client-certificate or client-key"
        case .proxyFailed(let proxy, let reason):
            return "the proxy \(proxy) did not open a tunnel to the API server (\(reason)); check proxy-url in the kubeconfig and the proxy's credentials"
        case .connectionClosed(let server):
            return "the API server at \(server) closed the connection before the response was complete; try again, and check the server's health if it persists"
        case .decodingFailed(let what, let reason):
            return "the API server's answer could not be read as \(what) (\(reason)); check that the server's Kubernetes version is supported"
        case .invalidArgument(let reason):
            return reason
        case .upgradeFailed(let server, let reason):
            return "the API server at \(server) did not open the stream (\(reason)); check that the pod is running and that you may use pods/exec and pods/portforward"
        case .portForwardFailed(let pod, let port, let message):
            let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
            return "forwarding to port \(port) of pod \(pod) failed: \(text); check that the container listens on that port"
        case .streamProtocolViolation(let reason):
            return "the API server's stream broke protocol (\(reason)); the server or a proxy in between may not support WebSocket streams"
        }
    }

    private static func describe(status: Status, request: RequestContext) -> String {
        let message = (status.message?.isEmpty == false ? status.message! : status.reason) ?? "HTTP \(status.code ?? 0)"
        switch status.code {
        case 401:
            let who = request.contextName.map { " of context \"\($0)\"" } ?? ""
            return "the API server at \(request.server) rejected the credentials\(who) (\(message)); log in again or refresh the user's token or certificate in the kubeconfig"
        case 403:
            return "\(message); ask a cluster administrator for that permission or use another --context"
        case 404:
            if let namespace = request.namespace, !message.contains("namespace") {
                return "\(message) in namespace \"\(namespace)\""
            }
            return message
        case 422:
            let causes = (status.details?.causes ?? []).compactMap { cause -> String? in
                let text = [cause.field, cause.message].compactMap { $0 }.joined(separator: ": ")
                return text.isEmpty || message.contains(text) ? nil : text
            }
            return causes.isEmpty ? message : "\(message): \(causes.joined(separator: ", "))"
        case 429, 500, 502, 503, 504:
            return "\(message); the API server is overloaded or failing, try again later"
        default:
            return message
        }
    }

    private static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "\(seconds)s" }
        return "\(Double(seconds) + Double(milliseconds) / 1000)s"
    }
}
