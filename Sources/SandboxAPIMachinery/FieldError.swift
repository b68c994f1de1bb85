/// One validation failure of one field, shaped like apimachinery's `field.Error` so the API
/// server can put it into a 422 `Status` (`details.causes[]`) and its message reads exactly like
/// the real server's.
public struct FieldError: Sendable, Hashable, Error, CustomStringConvertible {
    /// The kind of failure; `rawValue` is the `reason` of a `StatusCause`.
    public enum Kind: String, Sendable, Hashable {
        case invalid = "FieldValueInvalid"
        case required = "FieldValueRequired"
        case notSupported = "FieldValueNotSupported"
        case duplicate = "FieldValueDuplicate"
        case tooLong = "FieldValueTooLong"
        case forbidden = "FieldValueForbidden"
    }

    /// The JSON path of the field, e.g. `metadata.name` or `metadata.labels`.
    public var field: String
    public var kind: Kind
    /// The offending value as the user wrote it (nil for `required`).
    public var value: String?
    /// What is wrong, e.g. "must be no more than 63 characters".
    public var detail: String

    public init(field: String, kind: Kind, value: String? = nil, detail: String) {
        self.field = field
        self.kind = kind
        self.value = value
        self.detail = detail
    }

    public static func invalid(_ field: String, _ value: String, _ detail: String) -> FieldError {
        FieldError(field: field, kind: .invalid, value: value, detail: detail)
    }

    public static func required(_ field: String, _ detail: String) -> FieldError {
        FieldError(field: field, kind: .required, detail: detail)
    }

    /// The message without the field, as in `StatusCause.message`:
    /// `Invalid value: "Foo": a lowercase RFC 1123 subdomain must …`.
    public var body: String {
        switch kind {
        case .invalid:
            return "Invalid value: \(GoQuote.quote(value ?? "")): \(detail)"
        case .required:
            return detail.isEmpty ? "Required value" : "Required value: \(detail)"
        case .notSupported:
            return "Unsupported value: \(GoQuote.quote(value ?? ""))" + (detail.isEmpty ? "" : ": \(detail)")
        case .duplicate:
            return "Duplicate value: \(GoQuote.quote(value ?? ""))"
        case .tooLong:
            return "Too long: \(detail)"
        case .forbidden:
            return detail.isEmpty ? "Forbidden" : "Forbidden: \(detail)"
        }
    }

    /// `metadata.name: Invalid value: "Foo": …`, as Go prints a `field.Error`.
    public var description: String { "\(field): \(body)" }

    /// The message of a 422 `Invalid` Status for these errors, as the real server words it:
    /// `Deployment.apps "Web" is invalid: metadata.name: Invalid value: …` (one error) or with the
    /// errors in brackets, comma separated (several).
    public static func invalidObjectMessage(qualifiedKind: String, name: String, errors: [FieldError]) -> String {
        let list = errors.count == 1
            ? errors[0].description
            : "[" + errors.map(\.description).joined(separator: ", ") + "]"
        return "\(qualifiedKind) \(GoQuote.quote(name)) is invalid: \(list)"
    }
}

/// Go's `%q` for strings, so messages quote values the way the real server does.
enum GoQuote {
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
