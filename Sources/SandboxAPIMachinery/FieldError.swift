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
        case notFound = "FieldValueNotFound"
    }

    /// The JSON path of the field, e.g. `metadata.name` or `metadata.labels`.
    public var field: String
    public var kind: Kind
    /// The offending value as the user wrote it (nil for `required`).
    public var value: String?
    /// A value that is no string, as Go prints it (`70000`, `v1.LabelSelector{...}`); used
    /// instead of `value`, unquoted.
    public var rawValue: String?
    /// What is wrong, e.g. "must be no more than 63 characters".
    public var detail: String

    public init(field: String, kind: Kind, value: String? = nil, rawValue: String? = nil, detail: String) {
        self.field = field
        self.kind = kind
        self.value = value
        self.rawValue = rawValue
        self.detail = detail
    }

    public static func invalid(_ field: String, _ value: String, _ detail: String) -> FieldError {
        FieldError(field: field, kind: .invalid, value: value, detail: detail)
    }

    /// An invalid number: `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
    public static func invalid(_ field: String, _ value: Int, _ detail: String) -> FieldError {
        FieldError(field: field, kind: .invalid, rawValue: String(value), detail: detail)
    }

    /// An invalid value Go prints with `%#v` (a struct, a map), given already printed.
    public static func invalid(_ field: String, printed: String, _ detail: String) -> FieldError {
        FieldError(field: field, kind: .invalid, rawValue: printed, detail: detail)
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(field: field, kind: .required, detail: detail)
    }

    /// `Unsupported value: "Sometimes": supported values: "Always", "Never"`.
    public static func notSupported(_ field: String, _ value: String, _ supported: [String]) -> FieldError {
        FieldError(field: field, kind: .notSupported, value: value,
                   detail: supported.isEmpty ? "" : "supported values: " + supported.map(GoQuote.quote).joined(separator: ", "))
    }

    public static func duplicate(_ field: String, _ value: String) -> FieldError {
        FieldError(field: field, kind: .duplicate, value: value, detail: "")
    }

    /// `Not found: "data"` (a reference to something the object does not have).
    public static func notFound(_ field: String, _ value: String) -> FieldError {
        FieldError(field: field, kind: .notFound, value: value, detail: "")
    }

    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(field: field, kind: .forbidden, detail: detail)
    }

    /// The value as the message shows it: quoted when a string, as Go prints it otherwise.
    var shownValue: String { rawValue ?? GoQuote.quote(value ?? "") }

    /// The message without the field, as in `StatusCause.message`:
    /// `Invalid value: "Foo": a lowercase RFC 1123 subdomain must …`.
    public var body: String {
        switch kind {
        case .invalid:
            return "Invalid value: \(shownValue)" + (detail.isEmpty ? "" : ": \(detail)")
        case .required:
            return detail.isEmpty ? "Required value" : "Required value: \(detail)"
        case .notSupported:
            return "Unsupported value: \(shownValue)" + (detail.isEmpty ? "" : ": \(detail)")
        case .duplicate:
            return "Duplicate value: \(shownValue)"
        case .notFound:
            return "Not found: \(shownValue)"
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
    /// Identical messages are shown once, as Go's aggregate does.
    public static func invalidObjectMessage(qualifiedKind: String, name: String, errors: [FieldError]) -> String {
        var seen: Set<String> = []
        let messages = errors.map(\.description).filter { seen.insert($0).inserted }
        let list = messages.count == 1 ? messages[0] : "[" + messages.joined(separator: ", ") + "]"
        return "\(qualifiedKind) \(GoQuote.quote(name)) is invalid: \(list)"
    }
}

/// Go's `%q` for strings, so messages quote values the way the real server does.
public enum GoQuote {
    public static func quote(_ text: String) -> String {
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
