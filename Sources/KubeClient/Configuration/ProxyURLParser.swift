import Foundation

/// Parsing of a cluster's `proxy-url`. Only plain `http://` CONNECT proxies are supported; the
/// transport has no TLS-to-proxy or SOCKS client.
enum ProxyURLParser {
    enum Problem: Error, Equatable {
        case unsupportedScheme(String)
        case malformed
    }

    static func parse(_ text: String) -> Result<ProxyAddress, Problem> {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return .failure(.malformed)
        }
        guard scheme == "http" else { return .failure(.unsupportedScheme(scheme)) }
        guard var host = components.host, !host.isEmpty else { return .failure(.malformed) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? 80
        guard (1...65535).contains(port) else { return .failure(.malformed) }
        var credentials: String?
        if let user = components.user {
            credentials = user + ":" + (components.password ?? "")
        }
        return .success(ProxyAddress(host: host, port: port, basicCredentials: credentials))
    }
}
