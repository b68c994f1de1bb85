import Foundation

/// How the API server reaches a webhook: a `url` or an in-cluster `service`, and the CA that
/// signed the webhook's serving certificate.
public struct WebhookClientConfig: Codable, Sendable, Hashable {
    /// `https://...`; set this or `service`.
    public var url: String?
    public var service: ServiceReference?
    /// PEM bytes of the CA bundle (base64 on the wire).
    public var caBundle: Data?

    public init(url: String? = nil, service: ServiceReference? = nil, caBundle: Data? = nil) {
        self.url = url
        self.service = service
        self.caBundle = caBundle
    }

    private enum CodingKeys: String, CodingKey {
        case url, service, caBundle
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        service = try container.decodeIfPresent(ServiceReference.self, forKey: .service)
        caBundle = try container.decodeBase64IfPresent(forKey: .caBundle)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(url, forKey: .url)
        try container.encodeIfPresent(service, forKey: .service)
        try container.encodeBase64IfPresent(caBundle, forKey: .caBundle)
    }
}
