import Foundation
import NetworkAddress
import PKI
import Testing
import X509

@Suite struct CertificateAuthorityTests {
    @Test func serverCertificateCarriesNamesAndChainsToTheCA() throws {
        let ca = try CertificateAuthority(commonName: "test-ca")
        let issued = try ca.issueServerCertificate(
            commonName: "api", dnsNames: ["localhost", "kubernetes.default.svc"], ipAddresses: ["127.0.0.1", "::1"])
        let leaf = try Certificate(pemEncoded: issued.certificatePEM)
        #expect(leaf.issuer == ca.certificate.subject)
        let names = try #require(try leaf.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("kubernetes.default.svc")))
        #expect(names.count == 4)
        #expect(try ca.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: nil))
    }

    @Test func caSurvivesAPEMRoundTrip() throws {
        let ca = try CertificateAuthority(commonName: "round-trip")
        let loaded = try CertificateAuthority(certificatePEM: try ca.certificatePEM, privateKeyPEM: ca.privateKeyPEM)
        let leaf = try Certificate(pemEncoded: try loaded.issueClientCertificate(commonName: "alice", organizations: ["dev"]).certificatePEM)
        #expect(leaf.issuer == ca.certificate.subject)
        #expect(leaf.subject.description.contains("CN=alice"))
        #expect(leaf.subject.description.contains("O=dev"))
    }

    @Test func rejectsABadIPAddress() throws {
        let ca = try CertificateAuthority(commonName: "x")
        #expect(throws: PKIError.self) { try ca.issueServerCertificate(commonName: "x", ipAddresses: ["300.1.1.1"]) }
    }
}
