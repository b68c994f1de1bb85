import Crypto
import Foundation
import NetworkAddress
import SwiftASN1
import X509

/// A certificate authority made in process: the sandbox API server's CA, the traffic-manager's
/// webhook CA, and the CAs of tests. Keys are ECDSA P-256, which every TLS stack we meet accepts.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    private let key: P256.Signing.PrivateKey

    /// Makes a new self-signed CA valid from an hour ago (clock skew) for `validity`.
    public init(commonName: String, validity: TimeInterval = 10 * 365 * 86400) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        self.key = key
        self.certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key)
        )
    }

    /// Loads a CA saved with `certificatePEM` and `privateKeyPEM`.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        self.certificate = try Certificate(pemEncoded: certificatePEM)
        self.key = try P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM)
    }

    public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
    public var privateKeyPEM: String { key.pemRepresentation }

    /// Issues a server certificate for the given DNS names and IP addresses.
    public func issueServerCertificate(
        commonName: String, dnsNames: [String] = [], ipAddresses: [String] = [],
        validity: TimeInterval = 365 * 86400
    ) throws -> IssuedCertificate {
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            guard let bytes = IPAddress(address)?.bytes else { throw PKIError.invalidIPAddress(address) }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        return try issue(
            subject: try DistinguishedName { CommonName(commonName) },
            usage: [.serverAuth], subjectAlternativeNames: names, validity: validity)
    }

    /// Issues a client certificate; Kubernetes reads the user from CN and the groups from O.
    public func issueClientCertificate(
        commonName: String, organizations: [String] = [], validity: TimeInterval = 365 * 86400
    ) throws -> IssuedCertificate {
        var attributes = [RelativeDistinguishedName.Attribute]()
        for organization in organizations {
            attributes.append(.init(type: .RDNAttributeType.organizationName, utf8String: organization))
        }
        attributes.append(.init(type: .RDNAttributeType.commonName, utf8String: commonName))
        let subject = DistinguishedName(attributes.map { RelativeDistinguishedName($0) })
        return try issue(subject: subject, usage: [.clientAuth], subjectAlternativeNames: [], validity: validity)
    }

    private func issue(
        subject: DistinguishedName, usage: [ExtendedKeyUsage.Usage],
        subjectAlternativeNames: [GeneralName], validity: TimeInterval
    ) throws -> IssuedCertificate {
        let leafKey = P256.Signing.PrivateKey()
        let now = Date()
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage(usage)
                if !subjectAlternativeNames.isEmpty {
                    SubjectAlternativeNames(subjectAlternativeNames)
                }
            },
            issuerPrivateKey: .init(key)
        )
        return IssuedCertificate(
            certificatePEM: try certificate.serializeAsPEM().pemString,
            privateKeyPEM: leafKey.pemRepresentation)
    }
}

/// A leaf certificate and its key, both PEM.
public struct IssuedCertificate: Sendable, Hashable {
    public let certificatePEM: String
    public let privateKeyPEM: String
}

public enum PKIError: Error, CustomStringConvertible {
    case invalidIPAddress(String)
    public var description: String {
        switch self {
        case .invalidIPAddress(let text): "'\(text)' is not an IPv4 or IPv6 address"
        }
    }
}
