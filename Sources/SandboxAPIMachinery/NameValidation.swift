/// The name and label rules of Kubernetes (apimachinery `util/validation`), with the real
/// server's messages word for word, because clients and users see them in 422 responses.
///
/// Each `is…` function returns the list of problems (empty when the value is valid), like Go.
public enum NameValidation {
    /// Which rule a resource's `metadata.name` follows.
    public enum NameRule: Sendable, Hashable {
        /// At most 253 characters of `a-z0-9-.`, alphanumeric at both ends of each label.
        case dns1123Subdomain
        /// At most 63 characters of `a-z0-9-`, alphanumeric at both ends (namespaces).
        case dns1123Label
        /// A DNS-1123 label that starts with a letter (services).
        case dns1035Label
        /// Anything but `.`, `..`, or a name with `/` or `%` (RBAC objects).
        case pathSegment
    }

    static let dns1123LabelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dns1123SubdomainFormat = dns1123LabelFormat + "(\\." + dns1123LabelFormat + ")*"
    static let dns1035LabelFormat = "[a-z]([-a-z0-9]*[a-z0-9])?"
    static let qualifiedNameFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let labelValueFormat = "(" + qualifiedNameFormat + ")?"

    /// The rule for `metadata.name` of a resource, by its plural name (`pods`, `services`).
    public static func nameRule(forResource resource: String) -> NameRule {
        switch resource {
        case "namespaces": .dns1123Label
        case "services": .dns1035Label
        case "roles", "rolebindings", "clusterroles", "clusterrolebindings": .pathSegment
        default: .dns1123Subdomain
        }
    }

    /// Problems with `name` as the `metadata.name` of `resource`. With `prefix` (a
    /// `generateName`), a trailing `-` is allowed because random characters follow it.
    public static func validateName(_ name: String, resource: String, prefix: Bool = false) -> [String] {
        switch nameRule(forResource: resource) {
        case .dns1123Subdomain: isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name)
        case .dns1123Label: isDNS1123Label(prefix ? maskTrailingDash(name) : name)
        case .dns1035Label: isDNS1035Label(prefix ? maskTrailingDash(name) : name)
        case .pathSegment: isValidPathSegmentName(name, prefix: prefix)
        }
    }

    /// The field errors for an object's `metadata.name` and `metadata.generateName`, as
    /// `ValidateObjectMeta` reports them (`metadata.name: Required value: name or generateName
    /// is required`, `metadata.name: Invalid value: "Foo": …`).
    public static func validateObjectName(name: String?, generateName: String?, resource: String) -> [FieldError] {
        var errors: [FieldError] = []
        if let generateName, !generateName.isEmpty {
            for message in validateName(generateName, resource: resource, prefix: true) {
                errors.append(.invalid("metadata.generateName", generateName, message))
            }
        }
        guard let name, !name.isEmpty else {
            if generateName?.isEmpty ?? true {
                errors.append(.required("metadata.name", "name or generateName is required"))
            }
            return errors
        }
        for message in validateName(name, resource: resource) {
            errors.append(.invalid("metadata.name", name, message))
        }
        return errors
    }

    // MARK: DNS names

    public static func isDNS1123Label(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append(maxLengthError(63)) }
        if !matchesDNS1123Label(Substring(value)) {
            if matchesDNS1123Subdomain(value) {
                // A valid subdomain that is no valid label can only be wrong for its dots.
                errors.append("must not contain dots")
            } else {
                errors.append(regexError(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                    dns1123LabelFormat, examples: ["my-name", "123-abc"]))
            }
        }
        return errors
    }

    public static func isDNS1123Subdomain(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 253 { errors.append(maxLengthError(253)) }
        if !matchesDNS1123Subdomain(value) {
            errors.append(regexError(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                dns1123SubdomainFormat, examples: ["example.com"]))
        }
        return errors
    }

    public static func isDNS1035Label(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append(maxLengthError(63)) }
        let startsWithLetter = value.utf8.first.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } ?? false
        if !(startsWithLetter && matchesDNS1123Label(Substring(value))) {
            errors.append(regexError(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
                dns1035LabelFormat, examples: ["my-name", "abc-123"]))
        }
        return errors
    }

    /// RBAC names: path segments (`path.IsValidPathSegmentName`).
    public static func isValidPathSegmentName(_ name: String, prefix: Bool = false) -> [String] {
        var errors: [String] = []
        if !prefix, name == "." || name == ".." {
            errors.append("may not be '\(name)'")
        }
        for bad in ["/", "%"] where name.contains(bad) {
            errors.append("may not contain '\(bad)'")
        }
        return errors
    }

    // MARK: Labels and annotations

    /// Problems with a label key or annotation key: an optional DNS subdomain prefix and `/`,
    /// then a name of at most 63 characters (`IsQualifiedName`).
    public static func isQualifiedName(_ value: String) -> [String] {
        let nameMessage = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        var errors: [String] = []
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                errors += isDNS1123Subdomain(String(prefix)).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name " + regexError(nameMessage, qualifiedNameFormat, examples: ["MyName", "my.name", "123-abc"])
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            errors.append("name part " + maxLengthError(63))
        }
        if !matchesQualifiedName(name) {
            errors.append("name part " + regexError(nameMessage, qualifiedNameFormat, examples: ["MyName", "my.name", "123-abc"]))
        }
        return errors
    }

    /// Problems with a label value: empty, or at most 63 characters of `A-Za-z0-9-_.` with an
    /// alphanumeric at both ends.
    public static func isValidLabelValue(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > 63 { errors.append(maxLengthError(63)) }
        if !value.isEmpty && !matchesQualifiedName(Substring(value)) {
            errors.append(regexError(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
                labelValueFormat, examples: ["MyValue", "my_value", "12345"]))
        }
        return errors
    }

    /// Field errors for `metadata.labels`, as `ValidateLabels` reports them.
    public static func validateLabels(_ labels: [String: String], field: String = "metadata.labels") -> [FieldError] {
        var errors: [FieldError] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            errors += isQualifiedName(key).map { .invalid(field, key, $0) }
            errors += isValidLabelValue(value).map { .invalid(field, value, $0) }
        }
        return errors
    }

    /// Field errors for `metadata.annotations`: qualified keys (compared lower-cased, as Go
    /// does) and at most 256 KiB in total.
    public static func validateAnnotations(_ annotations: [String: String], field: String = "metadata.annotations") -> [FieldError] {
        var errors: [FieldError] = []
        var total = 0
        for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
            errors += isQualifiedName(key.lowercased()).map { .invalid(field, key, $0) }
            total += key.utf8.count + value.utf8.count
        }
        if total > 256 * 1024 {
            errors.append(FieldError(field: field, kind: .tooLong, detail: "must have at most \(256 * 1024) bytes"))
        }
        return errors
    }

    // MARK: Message shapes (apimachinery's MaxLenError and RegexError)

    static func maxLengthError(_ length: Int) -> String {
        "must be no more than \(length) characters"
    }

    /// Go joins the examples with " or " after a ", ", so real messages carry a double space
    /// (`'my-name',  or '123-abc'`); kept on purpose.
    static func regexError(_ message: String, _ format: String, examples: [String]) -> String {
        guard !examples.isEmpty else { return message + " (regex used for validation is '\(format)')" }
        return message + " (e.g. " + examples.map { "'\($0)', " }.joined(separator: " or ")
            + "regex used for validation is '\(format)')"
    }

    // MARK: Matchers (hand-written equivalents of the regular expressions above)

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isAlnum(_ byte: UInt8) -> Bool {
        isLowerAlnum(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
    static func matchesDNS1123Label(_ value: Substring) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        return bytes.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
    }

    static func matchesDNS1123Subdomain(_ value: String) -> Bool {
        value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(matchesDNS1123Label)
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
    static func matchesQualifiedName(_ value: Substring) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlnum(first), isAlnum(last) else { return false }
        return bytes.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Go's `maskTrailingDash`: a generateName may end in `-`, so validate it as if it ended in
    /// a letter.
    static func maskTrailingDash(_ name: String) -> String {
        guard name.utf8.count > 1, name.hasSuffix("-") else { return name }
        return String(name.dropLast(2)) + "a"
    }
}
