/// A message from the other daemon or the manager that does not say what it must (a subnet that
/// is not one): named by field, so the log says which side sent what.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var value: String
    public var expected: String

    public init(field: String, value: String, expected: String) {
        self.field = field
        self.value = value
        self.expected = expected
    }

    public var description: String { "\(value) is not \(expected) (\(field))" }
}
