import Foundation

/// Everything the transport needs to reach one API server as one user, after kubeconfig
/// loading, merging and overrides are done. This is the seam between the configuration layer
/// (kubeconfig, in-cluster config, flags) and the transport (HTTP, watch, WebSocket streams).
public struct ClientConfiguration: Sendable {
    /// The API server, e.g. `https://192.0.2.1:6443` or `https://host/prefix`.
    public var server: ServerAddress
    public var tls: TLSSettings
    /// An HTTP CONNECT proxy through which every connection is made (`proxy-url`).
    public var proxy: ProxyAddress?
    /// Produces the credentials of each request; may run exec plugins or re-read token files.
    public var credentials: any CredentialSource
    /// The namespace of the selected context (or in-cluster namespace); `default` when unset.
    public var namespace: String
    /// `--request-timeout`: the deadline of a single non-streaming request. `nil` waits forever.
    public var requestTimeout: Duration?
    /// Impersonation (`as`, `as-groups`, `as-uid`, `as-user-extra`), sent as `Impersonate-*` headers.
    public var impersonation: Impersonation?
    /// The kubeconfig context this configuration came from, for messages ("context kind-dev").
    public var contextName: String?
    public var userAgent: String
    /// `disable-compression`: do not ask the server for gzip (`Accept-Encoding`) responses.
    public var disableCompression: Bool = false

    public init(
        server: ServerAddress,
        tls: TLSSettings = TLSSettings(),
        proxy: ProxyAddress? = nil,
        credentials: any CredentialSource = NoCredentials(),
        namespace: String = "default",
        requestTimeout: Duration? = nil,
        impersonation: Impersonation? = nil,
        contextName: String? = nil,
        userAgent: String = "telepresence-swift"
    ) {
        self.server = server
        self.tls = tls
        self.proxy = proxy
        self.credentials = credentials
        self.namespace = namespace
        self.requestTimeout = requestTimeout
        self.impersonation = impersonation
        self.contextName = contextName
        self.userAgent = userAgent
    }
}

/// Where the API server listens. Parsed from a kubeconfig `server` field.
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }
    public var scheme: Scheme
    /// Host name or IP literal, without brackets.
    public var host: String
    public var port: Int
    /// Path prefix under which the API is served, without a trailing slash ("" for none).
    public var basePath: String

    public init(scheme: Scheme, host: String, port: Int, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// Parses `https://host[:port][/prefix]`; a missing scheme means https, as in client-go.
    public init?(parsing text: String) {
        let withScheme = text.contains("://") ? text : "https://" + text
        guard let components = URLComponents(string: withScheme),
              let schemeText = components.scheme?.lowercased(),
              let scheme = Scheme(rawValue: schemeText),
              var host = components.host, !host.isEmpty
        else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.scheme = scheme
        self.host = host
        self.port = components.port ?? (scheme == .https ? 443 : 80)
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        self.basePath = path
    }

    public var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "\(scheme.rawValue)://\(hostPart):\(port)\(basePath)"
    }
}

/// How the server's certificate is checked and which client certificate is presented.
public struct TLSSettings: Sendable, Hashable {
    /// PEM bundle of trusted CAs (`certificate-authority(-data)`); `nil` means the system roots.
    public var certificateAuthorityPEM: [UInt8]?
    /// `insecure-skip-tls-verify`: no verification of the server certificate at all.
    public var insecureSkipVerify: Bool
    /// `tls-server-name`: SNI and the name the server certificate is checked against.
    public var serverName: String?
    /// A static client certificate from the kubeconfig (exec plugins may supply one per request).
    public var clientCertificate: ClientCertificate?

    public init(
        certificateAuthorityPEM: [UInt8]? = nil,
        insecureSkipVerify: Bool = false,
        serverName: String? = nil,
        clientCertificate: ClientCertificate? = nil
    ) {
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipVerify = insecureSkipVerify
        self.serverName = serverName
        self.clientCertificate = clientCertificate
    }
}

/// A PEM certificate chain and its PEM private key.
public struct ClientCertificate: Sendable, Hashable {
    public var certificatePEM: [UInt8]
    public var privateKeyPEM: [UInt8]
    public init(certificatePEM: [UInt8], privateKeyPEM: [UInt8]) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// An HTTP CONNECT proxy (`proxy-url: http://[user:pass@]host:port`).
public struct ProxyAddress: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// `user:password` for `Proxy-Authorization: Basic`, when the URL carries them.
    public var basicCredentials: String?
    public init(host: String, port: Int, basicCredentials: String? = nil) {
        self.host = host
        self.port = port
        self.basicCredentials = basicCredentials
    }
}

public struct Impersonation: Sendable, Hashable {
    public var user: String?
    public var uid: String?
    public var groups: [String]
    public var extra: [String: [String]]
    public init(user: String? = nil, uid: String? = nil, groups: [String] = [], extra: [String: [String]] = [:]) {
        self.user = user
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }
}

/// What one request presents: an `Authorization` header value and/or a client certificate.
public struct RequestCredentials: Sendable, Hashable {
    /// The full header value, e.g. `Bearer abc` or `Basic dXNlcjpwYXNz`.
    public var authorization: String?
    /// A client certificate supplied by an exec plugin; overrides `TLSSettings.clientCertificate`.
    public var clientCertificate: ClientCertificate?
    public init(authorization: String? = nil, clientCertificate: ClientCertificate? = nil) {
        self.authorization = authorization
        self.clientCertificate = clientCertificate
    }
}

/// A source of request credentials. Implementations cache what is expensive (exec plugins)
/// and re-read what rotates (token files).
public protocol CredentialSource: Sendable {
    /// The credentials for the next request.
    func credentials() async throws -> RequestCredentials
    /// Called once after a request was answered 401 Unauthorized. Returns `true` when fresh
    /// credentials were obtained (an exec plugin re-ran, a token file changed) and the request
    /// should be retried once; `false` when retrying cannot help.
    func refreshAfterUnauthorized() async throws -> Bool
}

/// No authentication beyond what `TLSSettings` carries.
public struct NoCredentials: CredentialSource {
    public init() {}
    public func credentials() async throws -> RequestCredentials { RequestCredentials() }
    public func refreshAfterUnauthorized() async throws -> Bool { false }
}
