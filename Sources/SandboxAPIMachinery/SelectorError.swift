/// A label or field selector that cannot be parsed or is not supported for the resource. The
/// API server answers it with 400 `BadRequest` and `message` as the Status message.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message the real server would put into the `Status`, e.g.
    /// `field label not supported: spec.foo`.
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
