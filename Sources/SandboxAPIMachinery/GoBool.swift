/// Boolean query parameters parsed the way Go's `strconv.ParseBool` does, because that is what
/// the real API server uses: the Python client sends `watch=True`, kubectl sends `watch=true`.
public enum GoBool {
    /// Returns the boolean `text` spells, or nil when Go would reject it.
    ///
    /// Accepts exactly `1 t T TRUE true True` and `0 f F FALSE false False`.
    public static func parse(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }
}
