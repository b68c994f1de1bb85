/// A resource quantity such as `"500m"`, `"128Mi"` or `"2"`, kept as the text the API sent.
///
/// The API server always sends a string; manifests written by hand sometimes hold a bare number
/// (`cpu: 1`), which decodes to the same text the server would print.
public struct Quantity: Sendable, Hashable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var value: String

    public init(_ value: String) { self.value = value }
    public init(stringLiteral value: String) { self.value = value }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            value = text
        } else if let integer = try? container.decode(Int.self) {
            value = String(integer)
        } else if let number = try? container.decode(Double.self) {
            value = String(number)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "Expected a quantity such as \"500m\" or \"128Mi\".")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
