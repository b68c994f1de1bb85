import Foundation
import NIOCore
import Synchronization
import NIOHTTP1

/// One request to the API server, before credentials and the server's base path are added.
struct APIRequest: Sendable {
    var method: HTTPMethod
    /// The API path, e.g. `/api/v1/namespaces/default/pods`, without the server's base path.
    var path: String
    var query: [(name: String, value: String)] = []
    var body: ByteBuffer? = nil
    var contentType: String? = nil
    var accept = "application/json"
    /// Streaming requests (watch, log follow) are only bounded by the timeout until the head.
    var streaming = false
    /// For error messages ("... not found in namespace X").
    var namespace: String? = nil
    var extraHeaders: [(String, String)] = []
}

/// Sends `APIRequest`s with the configuration's credentials, impersonation and timeouts over
/// pooled connections; retries once after a 401 when the credential source could refresh, and
/// once on a pooled connection the server had closed.
final class HTTPTransport: Sendable {
    let configuration: ClientConfiguration
    let connector: Connector
    let pool: HTTPConnectionPool
    /// Set once a WebSocket port-forward was refused and SPDY worked instead.
    let prefersSPDYPortForward = Atomic(false)

    init(configuration: ClientConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.connector = Connector(configuration: configuration, group: group)
        self.pool = HTTPConnectionPool(connector: connector)
    }

    /// Sends the request; throws `KubeError` for non-2xx answers. The body must be consumed.
    func send(_ request: APIRequest) async throws -> HTTPResponseStart {
        var refreshed = false
        while true {
            let credentials = try await configuration.credentials.credentials()
            let response = try await sendOnce(request, credentials: credentials)
            let code = Int(response.head.status.code)
            if (200..<300).contains(code) { return response }
            let body = try await Self.collect(response.body, limit: 1 << 20)
            if code == 401, !refreshed, try await configuration.credentials.refreshAfterUnauthorized() {
                refreshed = true
                continue
            }
            throw error(code: code, body: body, request: request)
        }
    }

    /// Sends the request and reads the whole body.
    func perform(_ request: APIRequest) async throws -> (head: HTTPResponseHead, body: ByteBuffer) {
        let response = try await send(request)
        do {
            return (response.head, try await Self.collect(response.body, limit: 256 << 20))
        } catch {
            throw mapError(error)
        }
    }

    private func sendOnce(_ request: APIRequest, credentials: RequestCredentials) async throws -> HTTPResponseStart {
        let head = makeHead(request, credentials: credentials)
        let deadline = configuration.requestTimeout.map { NIODeadline.now() + .nanoseconds(Connector.nanoseconds($0)) }
        let timeoutError = KubeError.timedOut(server: configuration.server.description, after: configuration.requestTimeout)
        let identity = configuration.server.scheme == .https ? credentials.clientCertificate : nil
        let idempotent = [.GET, .PUT, .DELETE, .HEAD].contains(request.method)
        var attempt = 0
        while true {
            attempt += 1
            let (connection, reused) = try await pool.connection(presenting: identity)
            do {
                let pool = pool
                return try await connection.execute(
                    head: head, body: request.body, deadline: deadline, deadlineCoversBody: !request.streaming,
                    timeoutError: timeoutError, onIdle: { pool.release(connection) })
            } catch {
                // A pooled connection the server closed while idle: try a fresh one once.
                if reused, idempotent, attempt == 1, Connector.isClosedEarly(error), !Task.isCancelled { continue }
                throw reused ? mapError(error) : connector.mapEarlyFailure(error, presenting: identity)
            }
        }
    }

    func makeHead(_ request: APIRequest, credentials: RequestCredentials) -> HTTPRequestHead {
        let server = configuration.server
        var headers = HTTPHeaders()
        let hostPart = server.host.contains(":") ? "[\(server.host)]" : server.host
        let defaultPort = server.scheme == .https ? 443 : 80
        headers.add(name: "Host", value: server.port == defaultPort ? hostPart : "\(hostPart):\(server.port)")
        headers.add(name: "User-Agent", value: configuration.userAgent)
        headers.add(name: "Accept", value: request.accept)
        // Like kubectl: credentials never travel over plain http.
        if server.scheme == .https, let authorization = credentials.authorization {
            headers.add(name: "Authorization", value: authorization)
        }
        if let impersonation = configuration.impersonation {
            if let user = impersonation.user { headers.add(name: "Impersonate-User", value: user) }
            if let uid = impersonation.uid { headers.add(name: "Impersonate-Uid", value: uid) }
            for group in impersonation.groups { headers.add(name: "Impersonate-Group", value: group) }
            for (key, values) in impersonation.extra.sorted(by: { $0.key < $1.key }) {
                for value in values {
                    headers.add(name: "Impersonate-Extra-\(QueryEncoding.escape(key))", value: value)
                }
            }
        }
        for (name, value) in request.extraHeaders { headers.add(name: name, value: value) }
        if let contentType = request.contentType { headers.add(name: "Content-Type", value: contentType) }
        if request.body != nil || [.POST, .PUT, .PATCH].contains(request.method) {
            headers.add(name: "Content-Length", value: String(request.body?.readableBytes ?? 0))
        }
        return HTTPRequestHead(version: .http1_1, method: request.method, uri: uri(request), headers: headers)
    }

    func uri(_ request: APIRequest) -> String {
        let path = configuration.server.basePath + request.path
        return request.query.isEmpty ? path : path + "?" + QueryEncoding.encode(request.query)
    }

    func error(code: Int, body: ByteBuffer, request: APIRequest) -> KubeError {
        let context = KubeError.RequestContext(
            method: request.method.rawValue, path: uri(request), server: configuration.server.description,
            namespace: request.namespace, contextName: configuration.contextName)
        let data = Data(body.readableBytesView)
        if var status = try? JSONDecoder().decode(Status.self, from: data), status.kind == "Status" {
            if status.code == nil || status.code == 0 { status.code = code }
            return .api(status, context)
        }
        return .unexpectedResponse(code: code, body: String(decoding: data.prefix(4096), as: UTF8.self), context)
    }

    func mapError(_ error: any Error) -> any Error {
        connector.mapConnectError(error, throughProxy: false)
    }

    static func collect(_ body: BodyProducer, limit: Int) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await var chunk in body {
            guard collected.readableBytes + chunk.readableBytes <= limit else {
                throw KubeError.decodingFailed(what: "a response", reason: "the body exceeds \(limit) bytes")
            }
            collected.writeBuffer(&chunk)
        }
        return collected
    }
}
