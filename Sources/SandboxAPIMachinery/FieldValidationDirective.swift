/// The `fieldValidation` query parameter of create, update and patch: what the server does with
/// unknown and duplicate fields. `Warn` when absent, as the real server defaults it; kubectl
/// sends `Strict` (its `--validate=strict`, the default) or `Ignore` (`--validate=false`).
public enum FieldValidationDirective: String, Sendable, CaseIterable {
    /// Drop them silently.
    case ignore = "Ignore"
    /// Drop them and say so in `Warning` headers.
    case warn = "Warn"
    /// Refuse the request.
    case strict = "Strict"

    /// The directive of a request, or the field error of its options (`CreateOptions`,
    /// `UpdateOptions`, `PatchOptions`) when the value is none of them.
    public static func parse(_ value: String?) -> Result<FieldValidationDirective, FieldError> {
        guard let value, !value.isEmpty else { return .success(.warn) }
        if let directive = FieldValidationDirective(rawValue: value) { return .success(directive) }
        return .failure(.notSupported("fieldValidation", value, ["", "Ignore", "Strict", "Warn"]))
    }
}
