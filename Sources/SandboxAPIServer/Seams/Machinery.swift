import Foundation
import KubeClient
import SandboxAPIMachinery

/// The one place the server calls the pure API-machinery functions (`APIMachinery/`: patches,
/// selectors, names, defaults, tables) and KubeClient's JSON merge patch and JSON patch,
/// translating their errors into API errors with the real server's wording.
enum Machinery {
    static func strategicMerge(patch: JSONValue, into object: JSONValue, type: ResourceType) throws(APIError) -> JSONValue {
        do {
            return try StrategicMergePatch.apply(patch, to: object, kind: type.kind)
        } catch let error as StrategicMergePatchError {
            throw APIError(code: error.statusCode, reason: error.statusCode == 422 ? "Invalid" : "BadRequest", message: error.message)
        } catch {
            throw APIError.badRequest("\(error)")
        }
    }

    static func mergePatch(patch: JSONValue, into object: JSONValue) -> JSONValue {
        JSONMergePatch.apply(patch, to: object)
    }

    static func jsonPatch(_ operations: JSONValue, to object: JSONValue) throws(APIError) -> JSONValue {
        guard operations.arrayValue != nil else { throw .badRequest("json patch must be an array of operations") }
        let patch: JSONPatch
        do { patch = try operations.decode(as: JSONPatch.self) } catch {
            throw .badRequest("invalid json patch: \(error)")
        }
        do {
            return try patch.apply(to: object)
        } catch {
            let prefix = "the server rejected our request due to an error in our request"
            switch error.reason {
            case .testFailed(let path, _, _):
                throw APIError(code: 422, reason: "Invalid", message: "\(prefix): testing value \(path) failed")
            case .missingPath(let path), .invalidArrayIndex(let path), .notAContainer(let path):
                throw APIError(code: 422, reason: "Invalid", message: "\(prefix): doc is missing path: \(path)")
            case .moveIntoItself, .cannotRemoveDocument:
                throw APIError(code: 422, reason: "Invalid", message: "\(prefix): \(error)")
            }
        }
    }

    /// nil when the selector is empty (everything matches).
    static func labelSelector(_ text: String) throws(APIError) -> SandboxAPIMachinery.LabelSelector? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        do { return try SandboxAPIMachinery.LabelSelector(parsing: text) } catch { throw APIError.badRequest(error.message) }
    }

    static func fieldSelector(_ text: String, type: ResourceType) throws(APIError) -> FieldSelector? {
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return nil }
        do { return try FieldSelector(parsing: text, resource: type.plural) } catch { throw APIError.badRequest(error.message) }
    }

    /// Go's strconv.ParseBool: the Python client sends `watch=True`.
    static func goBool(_ text: String) -> Bool? { GoBool.parse(text) }

    static func applyDefaults(_ type: ResourceType, to object: inout JSONValue) {
        Defaults.apply(resource: type.plural, to: &object)
    }

    static func table(_ type: ResourceType, objects: [JSONValue], resourceVersion: String?, includeHeaders: Bool) -> JSONValue {
        var metadata: JSONValue = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return TableConverter.table(
            resource: type.plural, objects: objects, now: Date(), metadata: metadata, includeColumnDefinitions: includeHeaders)
    }

    /// Messages for an invalid `metadata.name` of a kind; empty when valid.
    static func nameErrors(_ type: ResourceType, name: String) -> [String] {
        NameValidation.validateName(name, resource: type.plural)
    }
}
