import NIOSSL
import Synchronization

/// Builds the TLS client contexts of one `ClientConfiguration`, one per client certificate
/// identity (the kubeconfig's, or one an exec plugin hands out), and keeps them: making a
/// context parses PEM and loads trust roots, which is too slow to do per connection.
final class TLSContextCache: Sendable {
    private let settings: TLSSettings
    private let contexts = Mutex<[ClientCertificate?: NIOSSLContext]>([:])

    init(settings: TLSSettings) {
        self.settings = settings
    }

    /// The context that presents `clientCertificate` (or the kubeconfig's static one when `nil`).
    func context(presenting clientCertificate: ClientCertificate?) throws -> NIOSSLContext {
        let identity = clientCertificate ?? settings.clientCertificate
        if let cached = contexts.withLock({ $0[identity] }) { return cached }
        let context = try Self.makeContext(settings: settings, clientCertificate: identity)
        return contexts.withLock { cache in
            if let raced = cache[identity] { return raced }
            cache[identity] = context
            return context
        }
    }

    static func makeConfiguration(settings: TLSSettings, clientCertificate: ClientCertificate?) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if settings.insecureSkipVerify {
            configuration.certificateVerification = .none
        } else {
            configuration.certificateVerification = .fullVerification
            if let pem = settings.certificateAuthorityPEM {
                do {
                    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(pem))
                } catch {
                    throw KubeError.invalidTLSSettings(reason: "the certificate authority is not a PEM certificate bundle: \(error)")
                }
            }
        }
        if let clientCertificate {
            do {
                let chain = try NIOSSLCertificate.fromPEMBytes(clientCertificate.certificatePEM)
                configuration.certificateChain = chain.map { .certificate($0) }
            } catch {
                throw KubeError.invalidTLSSettings(reason: "the client certificate is not PEM: \(error)")
            }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: clientCertificate.privateKeyPEM, format: .pem))
            } catch {
                throw KubeError.invalidTLSSettings(reason: "the client key is not a PEM private key: \(error)")
            }
        }
        return configuration
    }

    private static func makeContext(settings: TLSSettings, clientCertificate: ClientCertificate?) throws -> NIOSSLContext {
        let configuration = try makeConfiguration(settings: settings, clientCertificate: clientCertificate)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw KubeError.invalidTLSSettings(reason: "\(error)")
        }
    }
}
