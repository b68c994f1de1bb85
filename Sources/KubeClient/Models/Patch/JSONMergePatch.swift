/// RFC 7386 JSON merge patches, the body of a `PATCH` with
/// `Content-Type: application/merge-patch+json`: objects merge member by member, `null`
/// deletes a member, and anything else (arrays included) replaces the old value.
///
/// Sending only the difference keeps the fields this project does not model: they are in
/// neither tree, so the patch does not mention them and the server leaves them alone. Arrays
/// are replaced whole, though; to change one element of a list whose elements carry fields we
/// do not model (containers, volumes), use `JSONPatch.diff(from:to:)` instead.
public enum JSONMergePatch {
    /// The patch that turns `original` into `modified`. An empty object means no change.
    ///
    /// A merge patch cannot set a member to `null` (null means delete), so
    /// `apply(diff(from: a, to: b), to: a) == b` holds whenever `b` holds no `null`.
    public static func diff(from original: JSONValue, to modified: JSONValue) -> JSONValue {
        guard case .object(let old) = original, case .object(let new) = modified else {
            return modified
        }
        var patch: [String: JSONValue] = [:]
        for key in old.keys where new[key] == nil {
            patch[key] = .null
        }
        for (key, newValue) in new {
            guard let oldValue = old[key] else {
                patch[key] = newValue
                continue
            }
            guard oldValue != newValue else { continue }
            if case .object = oldValue, case .object = newValue {
                patch[key] = diff(from: oldValue, to: newValue)
            } else {
                patch[key] = newValue
            }
        }
        return .object(patch)
    }

    /// The patch that turns the encoding of `original` into the encoding of `modified`, e.g. a
    /// typed object before and after a change.
    public static func diff<T: Encodable>(from original: T, to modified: T) throws -> JSONValue {
        diff(from: try JSONValue(encoding: original), to: try JSONValue(encoding: modified))
    }

    /// `target` with `patch` merged in, as the API server does it.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var result: [String: JSONValue]
        if case .object(let fields) = target { result = fields } else { result = [:] }
        for (key, change) in changes {
            if change == .null {
                result[key] = nil
            } else {
                result[key] = apply(change, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}
