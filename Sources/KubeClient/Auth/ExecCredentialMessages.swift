import Foundation

/// The cluster an exec plugin is asked to authenticate to, sent as `spec.cluster` in
/// `KUBERNETES_EXEC_INFO` when the kubeconfig sets `provideClusterInfo: true`.
public struct ExecClusterInfo: Sendable, Hashable {
    public var server: String
    public var tlsServerName: String?
    public var insecureSkipTLSVerify: Bool
    /// PEM bytes of the CA (from `certificate-authority-data` or the file it names).
    public var certificateAuthorityData: [UInt8]?
    public var proxyURL: String?
    public var disableCompression: Bool
    /// The cluster's `client.authentication.k8s.io/exec` extension.
    public var config: JSONValue?

    public init(
        server: String,
        tlsServerName: String? = nil,
        insecureSkipTLSVerify: Bool = false,
        certificateAuthorityData: [UInt8]? = nil,
        proxyURL: String? = nil,
        disableCompression: Bool = false,
        config: JSONValue? = nil
    ) {
        self.server = server
        self.tlsServerName = tlsServerName
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.certificateAuthorityData = certificateAuthorityData
        self.proxyURL = proxyURL
        self.disableCompression = disableCompression
        self.config = config
    }
}

/// The `ExecCredential` documents exchanged with a plugin: the request in the environment and
/// the response on stdout. Pure functions, so the wire format is tested without processes.
public enum ExecCredentialMessages {
    /// What a successful plugin run yields.
    public struct Credential: Sendable, Hashable {
        public var credentials: RequestCredentials
        /// `status.expirationTimestamp`; `nil` means valid for the life of the process.
        public var expiration: Date?
    }

    /// The value of `KUBERNETES_EXEC_INFO`.
    public static func execInfo(apiVersion: String, cluster: ExecClusterInfo?, interactive: Bool) -> String {
        var spec: [String: JSONValue] = ["interactive": .bool(interactive)]
        if let cluster {
            // Optional fields are left out when empty, as client-go's `omitempty` does.
            var fields: [String: JSONValue] = ["server": .string(cluster.server)]
            if let name = cluster.tlsServerName, !name.isEmpty { fields["tls-server-name"] = .string(name) }
            if cluster.insecureSkipTLSVerify { fields["insecure-skip-tls-verify"] = .bool(true) }
            if let ca = cluster.certificateAuthorityData, !ca.isEmpty {
                fields["certificate-authority-data"] = .string(Data(ca).base64EncodedString())
            }
            if let proxy = cluster.proxyURL, !proxy.isEmpty { fields["proxy-url"] = .string(proxy) }
            if cluster.disableCompression { fields["disable-compression"] = .bool(true) }
            if let config = cluster.config, !config.isNull { fields["config"] = config }
            spec["cluster"] = .object(fields)
        }
        let document: JSONValue = .object([
            "kind": .string("ExecCredential"),
            "apiVersion": .string(apiVersion),
            "spec": .object(spec),
        ])
        // Encoding a tree of strings and booleans cannot fail.
        return (try? document.data()).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Validates a plugin's stdout like client-go: same `apiVersion` as configured, a `status`
    /// with a token and/or a certificate and key pair, and an RFC 3339 expiry if any. Throws a
    /// description of the problem.
    public static func parseResponse(_ stdout: Data, expectedAPIVersion: String) throws(ResponseProblem) -> Credential {
        guard let document = try? JSONValue(data: stdout), document.objectValue != nil else {
            let text = String(decoding: stdout.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ResponseProblem(text.isEmpty ? "it printed nothing" : "its output is not a JSON object: \(text)")
        }
        let apiVersion = document["apiVersion"]?.stringValue ?? ""
        guard apiVersion == expectedAPIVersion else {
            throw ResponseProblem(
                "it answered with apiVersion \"\(apiVersion)\" but the kubeconfig asks for \"\(expectedAPIVersion)\"")
        }
        if let kind = document["kind"]?.stringValue, kind != "ExecCredential" {
            throw ResponseProblem("it answered with kind \"\(kind)\" instead of ExecCredential")
        }
        guard let status = document["status"], status.objectValue != nil else {
            throw ResponseProblem("its output has no status")
        }
        let token = status["token"]?.stringValue ?? ""
        let certificate = status["clientCertificateData"]?.stringValue ?? ""
        let key = status["clientKeyData"]?.stringValue ?? ""
        if certificate.isEmpty != key.isEmpty {
            throw ResponseProblem("it returned only one of clientCertificateData and clientKeyData")
        }
        if token.isEmpty && certificate.isEmpty {
            throw ResponseProblem("it returned neither a token nor a client certificate")
        }
        var expiration: Date?
        if let text = status["expirationTimestamp"]?.stringValue, !text.isEmpty {
            guard let date = parseRFC3339(text) else {
                throw ResponseProblem("its expirationTimestamp \"\(text)\" is not an RFC 3339 time")
            }
            expiration = date
        }
        var credentials = RequestCredentials()
        if !token.isEmpty { credentials.authorization = "Bearer \(token)" }
        if !certificate.isEmpty {
            credentials.clientCertificate = ClientCertificate(
                certificatePEM: Array(certificate.utf8), privateKeyPEM: Array(key.utf8))
        }
        return Credential(credentials: credentials, expiration: expiration)
    }

    public struct ResponseProblem: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    static func parseRFC3339(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
