/// The syntax of a `resource.Quantity` (`500m`, `1Gi`, `1e3`), checked as apimachinery's
/// `ParseQuantity` checks it, with its error messages: a bad quantity in a body is a 400 whose
/// message is exactly this text.
public enum QuantitySyntax {
    public static let formatError =
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    public static let numericError = "unable to parse quantity's numeric part"
    public static let suffixError = "unable to parse quantity's suffix"

    static let binarySuffixes: Set<String> = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    static let decimalSuffixes: Set<String> = ["n", "u", "m", "", "k", "M", "G", "T", "P", "E"]

    /// nil when `text` is a quantity, else the error the real server reports.
    public static func error(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        if bytes.isEmpty { return formatError }
        if text == "0" { return nil }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        var pos = 0
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") { pos = 1 }
        let numberStart = pos
        while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        }
        // The numeric part must hold a digit ("." alone parses, but is no number).
        let numeric = bytes[numberStart..<pos]
        if pos == bytes.count {
            return numeric.contains(where: isDigit) ? nil : numericError
        }
        let suffixStart = pos
        let suffixLetters = Set("eEinumkKMGTP".utf8)
        while pos < bytes.count, suffixLetters.contains(bytes[pos]) { pos += 1 }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") || bytes[pos] == UInt8(ascii: "+") { pos += 1 }
        while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        if pos < bytes.count { return formatError }
        let suffix = String(decoding: bytes[suffixStart...], as: UTF8.self)
        guard isKnownSuffix(suffix) else { return suffixError }
        return numeric.contains(where: isDigit) ? nil : numericError
    }

    /// `Ki`..`Ei`, `n`..`E`, or a decimal exponent (`e3`, `E-2`).
    static func isKnownSuffix(_ suffix: String) -> Bool {
        if binarySuffixes.contains(suffix) || decimalSuffixes.contains(suffix) { return true }
        guard suffix.count > 1, let first = suffix.first, first == "e" || first == "E" else { return false }
        return Int(suffix.dropFirst()) != nil
    }
}
