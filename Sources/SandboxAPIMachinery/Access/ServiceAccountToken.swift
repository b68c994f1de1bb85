import Crypto
import Foundation
import KubeClient

/// What a service-account token says, with the claims a real cluster's tokens carry: issuer,
/// audiences, subject `system:serviceaccount:NS:NAME`, issue, not-before and expiry times, an id,
/// and under `kubernetes.io` the namespace, the service account (name, uid) and the object the
/// token is bound to (a pod or a secret, name and uid).
public struct ServiceAccountTokenClaims: Sendable, Hashable {
    /// `https://kubernetes.default.svc.cluster.local`, the issuer and default audience of
    /// kubeadm clusters.
    public static let defaultIssuer = "https://kubernetes.default.svc.cluster.local"

    public struct BoundObject: Sendable, Hashable {
        /// `Pod` or `Secret`.
        public var kind: String
        public var name: String
        public var uid: String

        public init(kind: String, name: String, uid: String) {
            self.kind = kind
            self.name = name
            self.uid = uid
        }
    }

    public var issuer: String
    public var audiences: [String]
    /// Seconds since 1970.
    public var issuedAt: Int
    public var notBefore: Int
    public var expiresAt: Int
    public var id: String
    public var namespace: String
    public var serviceAccountName: String
    public var serviceAccountUID: String
    public var boundObject: BoundObject?

    public init(
        issuer: String = Self.defaultIssuer, audiences: [String] = [Self.defaultIssuer], issuedAt: Int, expiresAt: Int, id: String,
        namespace: String, serviceAccountName: String, serviceAccountUID: String, boundObject: BoundObject? = nil
    ) {
        self.issuer = issuer
        self.audiences = audiences
        self.issuedAt = issuedAt
        self.notBefore = issuedAt
        self.expiresAt = expiresAt
        self.id = id
        self.namespace = namespace
        self.serviceAccountName = serviceAccountName
        self.serviceAccountUID = serviceAccountUID
        self.boundObject = boundObject
    }

    public var subject: String { UserInfo.serviceAccountUsername(namespace: namespace, name: serviceAccountName) }

    var json: JSONValue {
        var kubernetes: JSONValue = [
            "namespace": .string(namespace),
            "serviceaccount": ["name": .string(serviceAccountName), "uid": .string(serviceAccountUID)],
        ]
        if let boundObject {
            kubernetes[boundObject.kind.lowercased()] = ["name": .string(boundObject.name), "uid": .string(boundObject.uid)]
        }
        return [
            "aud": .array(audiences.map { .string($0) }), "exp": .number(Double(expiresAt)), "iat": .number(Double(issuedAt)),
            "iss": .string(issuer), "jti": .string(id), "kubernetes.io": kubernetes, "nbf": .number(Double(notBefore)),
            "sub": .string(subject),
        ]
    }

    init?(_ json: JSONValue) {
        let kubernetes = json["kubernetes.io"]
        guard let issuer = json["iss"]?.stringValue, let exp = json["exp"]?.intValue, let iat = json["iat"]?.intValue,
              let namespace = kubernetes?["namespace"]?.stringValue,
              let name = kubernetes?["serviceaccount"]?["name"]?.stringValue,
              json["sub"]?.stringValue == UserInfo.serviceAccountUsername(namespace: namespace, name: name)
        else { return nil }
        let audiences = json["aud"]?.arrayValue?.compactMap(\.stringValue) ?? json["aud"]?.stringValue.map { [$0] } ?? []
        self.init(issuer: issuer, audiences: audiences, issuedAt: iat, expiresAt: exp, id: json["jti"]?.stringValue ?? "",
                  namespace: namespace, serviceAccountName: name,
                  serviceAccountUID: kubernetes?["serviceaccount"]?["uid"]?.stringValue ?? "")
        notBefore = json["nbf"]?.intValue ?? iat
        for kind in ["Pod", "Secret"] {
            if let bound = kubernetes?[kind.lowercased()], let name = bound["name"]?.stringValue {
                boundObject = BoundObject(kind: kind, name: name, uid: bound["uid"]?.stringValue ?? "")
            }
        }
    }
}

/// Signs and verifies service-account tokens: JWTs (`header.claims.signature`, base64url) as a
/// real cluster issues them, so clients that read a token's expiry or subject read the same
/// fields, but signed with HMAC-SHA256 under a key of this server (HS256) rather than RS256:
/// only the server that issued a token ever verifies it, so a shared secret is enough.
public struct ServiceAccountTokenSigner: Sendable {
    let key: SymmetricKey

    /// A signer with a fresh random key (tokens die with it).
    public init() {
        key = SymmetricKey(size: .bits256)
    }

    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    static let header = base64URL(Array(#"{"alg":"HS256","kid":"sandbox","typ":"JWT"}"#.utf8))

    public func sign(_ claims: ServiceAccountTokenClaims) -> String {
        let payload = Self.header + "." + Self.base64URL(Array(JSONBytesWriter.encode(claims.json)))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: key)
        return payload + "." + Self.base64URL(Array(mac))
    }

    /// The claims of a token this signer made; nil for anything else (another key, a changed
    /// byte, not a JWT).
    public func verify(_ token: String) -> ServiceAccountTokenClaims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Self.decodeBase64URL(parts[2]),
              HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Array((parts[0] + "." + parts[1]).utf8), using: key),
              let payload = Self.decodeBase64URL(parts[1]), let json = try? JSONValue(data: Data(payload))
        else { return nil }
        return ServiceAccountTokenClaims(json)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}

/// Compact JSON with sorted keys (a token's claims always serialize the same way).
enum JSONBytesWriter {
    static func encode(_ value: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
