import Foundation

/// Byte fields (`Secret.data`, `ConfigMap.binaryData`, `caBundle`) travel as standard base64
/// with padding, like Go's `[]byte`. These helpers decode and encode them explicitly, so the
/// result does not depend on the `JSONDecoder`'s data strategy.
extension KeyedDecodingContainer {
    func decodeBase64IfPresent(forKey key: Key) throws -> Data? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        return try Self.base64Bytes(text, forKey: key, in: self)
    }

    func decodeBase64MapIfPresent(forKey key: Key) throws -> [String: Data]? {
        guard let texts = try decodeIfPresent([String: String].self, forKey: key) else { return nil }
        return try texts.mapValues { try Self.base64Bytes($0, forKey: key, in: self) }
    }

    private static func base64Bytes(_ text: String, forKey key: Key, in container: Self) throws -> Data {
        // Go's decoder skips line breaks; anything else that is not base64 is an error.
        let compact = text.filter { $0 != "\n" && $0 != "\r" }
        guard let bytes = Data(base64Encoded: compact) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container,
                debugDescription: "The value is not valid base64; encode the bytes with `base64 -w0`.")
        }
        return bytes
    }
}

extension KeyedEncodingContainer {
    mutating func encodeBase64IfPresent(_ bytes: Data?, forKey key: Key) throws {
        guard let bytes else { return }
        try encode(bytes.base64EncodedString(), forKey: key)
    }

    mutating func encodeBase64MapIfPresent(_ map: [String: Data]?, forKey key: Key) throws {
        guard let map else { return }
        try encode(map.mapValues { $0.base64EncodedString() }, forKey: key)
    }
}
