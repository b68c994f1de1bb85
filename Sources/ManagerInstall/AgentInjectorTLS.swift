import Foundation
import KubeClient
import PKI

/// The agent-injector webhook's CA and serving certificate (for `agent-injector.<ns>.svc`), kept
/// in Secret `mutator-webhook-tls` of the manager's namespace: made at the first install, kept
/// across upgrades while it is valid, mounted into the manager; the CA goes into the
/// MutatingWebhookConfiguration's caBundle.
public struct AgentInjectorTLS: Sendable, Hashable {
    public static let secretName = "mutator-webhook-tls"
    public static let serviceName = "agent-injector"
    /// Where the Deployment mounts the Secret (the manager's `AGENT_INJECTOR_TLS_DIR`).
    public static let mountPath = "/var/run/secrets/tls"
    /// The manager's container port of the webhook; Service `agent-injector` maps 443 to it.
    public static let containerPort = 8443

    public var caPEM: String
    public var certificatePEM: String
    public var privateKeyPEM: String

    public init(caPEM: String, certificatePEM: String, privateKeyPEM: String) {
        self.caPEM = caPEM
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// The DNS names the API server may dial the webhook by.
    static func dnsNames(namespace: String) -> [String] {
        let service = serviceName
        return [service, "\(service).\(namespace)", "\(service).\(namespace).svc", "\(service).\(namespace).svc.cluster.local"]
    }

    /// A new CA and serving certificate for the manager in `namespace`.
    public static func generate(namespace: String) throws -> AgentInjectorTLS {
        let ca = try CertificateAuthority(commonName: "agent-injector-ca.\(namespace)")
        let issued = try ca.issueServerCertificate(
            commonName: "\(serviceName).\(namespace).svc", dnsNames: dnsNames(namespace: namespace), validity: 10 * 365 * 86400)
        return AgentInjectorTLS(caPEM: try ca.certificatePEM, certificatePEM: issued.certificatePEM, privateKeyPEM: issued.privateKeyPEM)
    }

    /// The TLS kept in `secret`, when it is complete and still good for `namespace`.
    public init?(secret: Secret, namespace: String) {
        guard let data = secret.data,
            let ca = data["ca.crt"].map({ String(decoding: $0, as: UTF8.self) }),
            let certificate = data["tls.crt"].map({ String(decoding: $0, as: UTF8.self) }),
            let key = data["tls.key"].map({ String(decoding: $0, as: UTF8.self) }),
            CertificateCheck.isUsableServerCertificate(
                certificatePEM: certificate, privateKeyPEM: key, caPEM: ca, dnsName: "\(Self.serviceName).\(namespace).svc")
        else { return nil }
        self.init(caPEM: ca, certificatePEM: certificate, privateKeyPEM: key)
    }

    /// The Secret's data (base64, as the API has it).
    var secretData: JSONValue {
        [
            "ca.crt": .string(Data(caPEM.utf8).base64EncodedString()),
            "tls.crt": .string(Data(certificatePEM.utf8).base64EncodedString()),
            "tls.key": .string(Data(privateKeyPEM.utf8).base64EncodedString()),
        ]
    }

    /// A short fingerprint of the serving certificate (FNV-1a, hex): the manager's pod template
    /// carries it, so that a new certificate rolls the manager.
    var fingerprint: String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in certificatePEM.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// The caBundle of the webhook configuration (base64 of the CA's PEM).
    var caBundle: String { Data(caPEM.utf8).base64EncodedString() }
}
