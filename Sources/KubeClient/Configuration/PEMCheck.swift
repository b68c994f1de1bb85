/// A cheap check that bytes are PEM of the expected kind, so a wrong file is reported with its
/// kubeconfig field now rather than as a TLS failure later.
enum PEMCheck {
    /// `kind` "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY".
    static func containsBlock(_ bytes: [UInt8], kind: String) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        var rest = text[...]
        while let begin = rest.range(of: "-----BEGIN ") {
            rest = rest[begin.upperBound...]
            guard let end = rest.range(of: "-----") else { return false }
            if rest[..<end.lowerBound].hasSuffix(kind) { return true }
            rest = rest[end.upperBound...]
        }
        return false
    }
}
