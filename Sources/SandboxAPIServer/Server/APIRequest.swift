import Foundation
import KubeClient
import NIOHTTP1
import SandboxAPIMachinery

/// One HTTP request as the API layer sees it: decoded path and query, the verified client
/// certificate's user and groups, and (once admitted) the user it acts as.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The common name of the client certificate the TLS handshake verified ("" without one).
    public var user: String
    /// The organizations of that certificate: the user's groups.
    public var groups: [String]
    /// Who the request acts as, set by `admit` (authentication and impersonation).
    var userInfo = UserInfo.anonymous
    /// The request target as sent (path and query), for parameters that may repeat.
    public var uri: String

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: [UInt8], user: String, groups: [String] = []) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
        self.user = user
        self.groups = groups
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = String(parts[0]).removingPercentEncoding ?? String(parts[0])
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ s: Substring) -> String {
                    s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
                }
                let key = decode(kv[0])
                if query[key] == nil { query[key] = kv.count > 1 ? decode(kv[1]) : "" }
            }
        }
        self.query = query
    }

    /// Every value of a query parameter that may repeat (`command=ls&command=-l`), in order.
    func values(_ name: String) -> [String] {
        guard let query = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).dropFirst().first else {
            return []
        }
        return query.split(separator: "&").compactMap { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            return decode(kv[0]) == name ? (kv.count > 1 ? decode(kv[1]) : "") : nil
        }
    }

    var accept: String { headers.first(name: "accept") ?? "" }
    var contentType: String { headers.first(name: "content-type") ?? "application/json" }

    /// A query boolean parsed like Go's strconv.ParseBool.
    func flag(_ name: String) throws(APIError) -> Bool {
        guard let text = query[name], !text.isEmpty else { return false }
        guard let value = Machinery.goBool(text) else {
            throw .badRequest("invalid boolean value \"\(text)\" for query parameter \(name)")
        }
        return value
    }

    /// A body as the typed decoder takes it: JSON as its bytes (order and duplicates count), other
    /// encodings as the tree they decode to.
    enum BodyForm {
        case json([UInt8])
        case tree(JSONValue)
    }

    func bodyForm() throws(APIError) -> BodyForm {
        if body.isEmpty { throw .badRequest("the request body is empty") }
        let json = body.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }) == UInt8(ascii: "{")
        if contentType.contains("application/vnd.kubernetes.protobuf") || contentType.contains("cbor") || (contentType.contains("yaml") && !json) {
            return .tree(try decodedBody())
        }
        return .json(body)
    }

    func decodedBody() throws(APIError) -> JSONValue {
        if body.isEmpty { throw .badRequest("the request body is empty") }
        if contentType.contains("application/vnd.kubernetes.protobuf") {
            do {
                return try ProtobufBody.decode(body)
            } catch {
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: "\(error)")
            }
        }
        if contentType.contains("cbor") {
            // client-go falls back to JSON after a 415 for a content type the server lacks.
            throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml")
        }
        do {
            if contentType.contains("yaml") { return try YAMLBody.decode(body) }
            return try JSONBytes.decode(body)
        } catch {
            throw .badRequest("the body of the request could not be decoded: \(error)")
        }
    }
}

/// What the API layer answers: a whole body, or a stream (watch) written as it comes.
public enum APIResponse: Sendable {
    case full(status: Int, contentType: String, body: [UInt8])
    case stream(contentType: String, producer: @Sendable (StreamWriter) async -> Void)
    /// A response with warnings for the client (`Warning: 299 - "unknown field \"spec.foo\""`
    /// headers, which kubectl prints as `Warning: unknown field "spec.foo"`).
    indirect case warned(APIResponse, warnings: [String])

    /// This response with `warnings` added (itself when there are none).
    func withWarnings(_ warnings: [String]) -> APIResponse {
        warnings.isEmpty ? self : .warned(self, warnings: warnings)
    }

    static func json(_ value: JSONValue, status: Int = 200) -> APIResponse {
        .full(status: status, contentType: "application/json", body: JSONBytes.encode(value))
    }

    static func error(_ error: APIError) -> APIResponse {
        .full(status: error.code, contentType: "application/json", body: JSONBytes.encode(error.status))
    }

    static func text(_ text: String, status: Int = 200) -> APIResponse {
        .full(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }
}

/// Writes chunks of a streamed response; throws when the client is gone.
public struct StreamWriter: Sendable {
    let write: @Sendable ([UInt8]) async throws -> Void
    public func callAsFunction(_ bytes: [UInt8]) async throws { try await write(bytes) }
}
