import KubeClient

/// The one place the server calls the pure API-machinery functions (patches, selectors, names,
/// defaults, tables). They are written in `APIMachinery/` by another branch; until it is
/// merged these forward to the small fallbacks in this folder, so switching is a one-file change.
enum Machinery {
    static func strategicMerge(patch: JSONValue, into object: JSONValue, type: ResourceType) throws(APIError) -> JSONValue {
        try FallbackStrategicMerge.apply(patch: patch, to: object)
    }

    static func mergePatch(patch: JSONValue, into object: JSONValue) -> JSONValue {
        FallbackPatches.merge(patch: patch, into: object)
    }

    static func jsonPatch(_ operations: JSONValue, to object: JSONValue) throws(APIError) -> JSONValue {
        try FallbackPatches.jsonPatch(operations, to: object)
    }

    static func labelSelector(_ text: String) throws(APIError) -> FallbackSelectors.LabelMatcher {
        try FallbackSelectors.parseLabels(text)
    }

    static func fieldSelector(_ text: String, type: ResourceType) throws(APIError) -> FallbackSelectors.FieldMatcher {
        try FallbackSelectors.parseFields(text, type: type)
    }

    /// Go's strconv.ParseBool: the Python client sends `watch=True`.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }

    static func applyDefaults(_ type: ResourceType, to object: inout JSONValue) {
        FallbackDefaults.apply(kind: type.kind, to: &object)
    }

    static func table(_ type: ResourceType, objects: [JSONValue], resourceVersion: String?, includeHeaders: Bool) -> JSONValue {
        FallbackTable.table(type, objects: objects, resourceVersion: resourceVersion, includeHeaders: includeHeaders)
    }
}

extension Machinery {
    /// Messages for an invalid `metadata.name` of a kind; empty when valid.
    static func nameErrors(kind: String, name: String) -> [String] {
        FallbackNames.validate(kind: kind, name: name)
    }
}
