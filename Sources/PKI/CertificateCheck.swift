import Foundation
import SwiftASN1
import X509

/// Whether a kept serving certificate is still good to serve with: the traffic-manager's install
/// keeps its webhook certificate across upgrades and makes a new one only when this says no.
public enum CertificateCheck {
    /// True when `certificatePEM` parses, was issued by the CA `caPEM` (issuer name and signature),
    /// names `dnsName` among its subject alternative names, and stays valid for `margin` after `now`.
    public static func isUsableServerCertificate(
        certificatePEM: String, privateKeyPEM: String, caPEM: String, dnsName: String,
        now: Date = Date(), margin: TimeInterval = 30 * 86400
    ) -> Bool {
        guard let certificate = try? Certificate(pemEncoded: certificatePEM),
            let ca = try? Certificate(pemEncoded: caPEM),
            (try? Certificate.PrivateKey(pemEncoded: privateKeyPEM)).map({ $0.publicKey == certificate.publicKey }) == true
        else { return false }
        guard certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate) else { return false }
        guard certificate.notValidBefore <= now, certificate.notValidAfter > now.addingTimeInterval(margin),
            ca.notValidAfter > now.addingTimeInterval(margin)
        else { return false }
        let names = (try? certificate.extensions.subjectAlternativeNames) ?? nil
        return names?.contains { if case .dnsName(let name) = $0 { name == dnsName } else { false } } ?? false
    }
}
