import KubeClient
import PKI

/// Certificates for the test API server: a CA, a server certificate for localhost/127.0.0.1,
/// one that only carries `kube.internal` (for tls-server-name), a client certificate, and a
/// second CA that trusts none of them.
struct TestPKI: Sendable {
    let ca: CertificateAuthority
    let otherCA: CertificateAuthority
    let server: IssuedCertificate
    let serverOnlyInternalName: IssuedCertificate
    let client: IssuedCertificate
    let clientFromOtherCA: IssuedCertificate

    static let shared: TestPKI = {
        do {
            let ca = try CertificateAuthority(commonName: "test-ca")
            let other = try CertificateAuthority(commonName: "other-ca")
            return TestPKI(
                ca: ca, otherCA: other,
                server: try ca.issueServerCertificate(commonName: "apiserver", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"]),
                serverOnlyInternalName: try ca.issueServerCertificate(commonName: "apiserver", dnsNames: ["kube.internal"]),
                client: try ca.issueClientCertificate(commonName: "alice", organizations: ["devs"]),
                clientFromOtherCA: try other.issueClientCertificate(commonName: "mallory"))
        } catch {
            fatalError("test PKI: \(error)")
        }
    }()

    var caPEM: [UInt8] { Array(((try? ca.certificatePEM) ?? "").utf8) }
    var otherCAPEM: [UInt8] { Array(((try? otherCA.certificatePEM) ?? "").utf8) }

    static func clientCertificate(_ issued: IssuedCertificate) -> ClientCertificate {
        ClientCertificate(certificatePEM: Array(issued.certificatePEM.utf8), privateKeyPEM: Array(issued.privateKeyPEM.utf8))
    }
}
