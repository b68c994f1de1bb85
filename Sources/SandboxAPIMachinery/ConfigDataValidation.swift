import KubeClient

/// `ValidateConfigMap` and `ValidateSecret`: every key of `data` (`stringData`, `binaryData`)
/// is a config key (`[-._a-zA-Z0-9]+`, not `.` or `..`), found in one map only.
public enum ConfigDataValidation {
    static let keyFormat = "[-._a-zA-Z0-9]+"

    /// `IsConfigMapKey`.
    public static func keyErrors(_ key: String) -> [String] {
        var errors: [String] = []
        if key.utf8.count > 253 { errors.append(NameValidation.maxLengthError(253)) }
        let valid = !key.isEmpty && key.utf8.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
        if !valid {
            errors.append(NameValidation.regexError(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'", keyFormat,
                examples: ["key.name", "KEY_NAME", "key-name"]))
        }
        switch key {
        case ".": errors.append("must not be '.'")
        case "..": errors.append("must not be '..'")
        default: if key.hasPrefix("..") { errors.append("must not start with '..'") }
        }
        return errors
    }

    static func errors(_ object: JSONValue, kind: String) -> [FieldError] {
        var errors: [FieldError] = []
        let data = object["data"]?.objectValue ?? [:]
        // A Secret's stringData is merged into data before validation, as the real server does.
        let other = kind == "Secret" ? (object["stringData"]?.objectValue ?? [:]) : (object["binaryData"]?.objectValue ?? [:])
        for key in data.keys.sorted() {
            errors += keyErrors(key).map { .invalid("data[\(key)]", key, $0) }
        }
        for key in other.keys.sorted() {
            if kind == "Secret" {
                errors += keyErrors(key).map { .invalid("data[\(key)]", key, $0) }
            } else {
                errors += keyErrors(key).map { .invalid("binaryData[\(key)]", key, $0) }
                if data[key] != nil { errors.append(.invalid("data[\(key)]", key, "duplicate of key present in binaryData")) }
            }
        }
        return errors
    }
}
