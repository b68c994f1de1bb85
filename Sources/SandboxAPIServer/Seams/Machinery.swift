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

    // MARK: Typed writes

    /// The request's `fieldValidation`, or the 422 of its options (`CreateOptions`, ...).
    static func fieldValidation(_ request: APIRequest, options: String) throws(APIError) -> FieldValidationDirective {
        switch FieldValidationDirective.parse(request.query["fieldValidation"]) {
        case .success(let directive): return directive
        case .failure(let error): throw APIError.invalid(kind: options, group: "meta.k8s.io", name: "", causes: [cause(error)])
        }
    }

    /// A create or update body decoded into `kind` (the type's kind, or `Scale`).
    static func decodeBody(_ request: APIRequest, kind: String, version: String, directive: FieldValidationDirective) throws(APIError) -> WriteDecoding.Decoded {
        let result: Result<WriteDecoding.Decoded, WriteDecoding.Refusal>
        switch try request.bodyForm() {
        case .json(let bytes): result = WriteDecoding.body(json: bytes, kind: kind, version: version, directive: directive)
        case .tree(let value): result = WriteDecoding.body(value, kind: kind, version: version, directive: directive)
        }
        return try unwrap(result)
    }

    /// The strict errors of a patch document itself (its duplicate fields).
    static func patchDocumentErrors(_ request: APIRequest, jsonPatch: Bool, directive: FieldValidationDirective) throws(APIError) -> [String] {
        guard case .json(let bytes) = try request.bodyForm() else { return [] }
        return try unwrap(WriteDecoding.patchDocumentErrors(bytes, jsonPatch: jsonPatch, directive: directive))
    }

    static func decodeJSONPatched(_ object: JSONValue, kind: String, directive: FieldValidationDirective, patchErrors: [String]) throws(APIError) -> WriteDecoding.Decoded {
        try unwrap(WriteDecoding.jsonPatched(object, kind: kind, directive: directive, patchErrors: patchErrors))
    }

    static func decodeStrategicPatched(_ object: JSONValue, patch: JSONValue, kind: String, directive: FieldValidationDirective,
                                       patchErrors: [String]) throws(APIError) -> WriteDecoding.Decoded {
        try unwrap(WriteDecoding.strategicPatched(object, patch: patch, kind: kind, directive: directive, patchErrors: patchErrors))
    }

    /// An object a mutating webhook patched, decoded into its kind (unknown fields dropped).
    static func decodeAdmissionPatched(_ object: JSONValue, kind: String) throws(APIError) -> JSONValue {
        try unwrap(WriteDecoding.admissionPatched(object, kind: kind))
    }

    static func unwrap<T>(_ result: Result<T, WriteDecoding.Refusal>) throws(APIError) -> T {
        switch result {
        case .success(let value): return value
        case .failure(.badRequest(let message)): throw APIError.badRequest(message)
        case .failure(.invalidPatch(let error)): throw APIError.invalid(kind: "", group: "", name: "", causes: [cause(error)])
        case .failure(.internalError(let message)):
            throw APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)",
                           details: ["causes": [["message": .string(message)]]])
        }
    }

    // MARK: Semantic validation

    /// The 422 of an object that breaks its kind's rules (`old` is the stored object on update).
    static func validate(_ type: ResourceType, _ object: JSONValue, old: JSONValue? = nil) throws(APIError) {
        let kind = ObjectValidation.Kind(kind: type.kind, resource: type.plural, namespaced: type.namespaced)
        try refuse(ObjectValidation.errors(object, kind: kind, old: old), type, object)
    }

    /// A status update: what metadata may not change, and the status's own rules.
    static func validateStatus(_ type: ResourceType, _ object: JSONValue, old: JSONValue) throws(APIError) {
        var errors = ObjectValidation.objectMetaUpdate(object["metadata"], old: old["metadata"])
        if ["Deployment", "ReplicaSet", "StatefulSet"].contains(type.kind) { errors += WorkloadValidation.status(object["status"]) }
        try refuse(errors, type, object)
    }

    /// The autoscaling/v1 Scale written to a workload's `scale` subresource.
    static func validateScale(_ scale: JSONValue, name: String) throws(APIError) {
        let errors = WorkloadValidation.scale(scale)
        if !errors.isEmpty { throw APIError.invalid(kind: "Scale", group: "autoscaling", name: name, causes: errors.map(cause)) }
    }

    static func refuse(_ errors: [FieldError], _ type: ResourceType, _ object: JSONValue) throws(APIError) {
        guard !errors.isEmpty else { return }
        throw APIError.invalid(kind: type.kind, group: type.group, name: object["metadata"]?["name"]?.stringValue ?? "", causes: errors.map(cause))
    }

    static func cause(_ error: FieldError) -> APIError.Cause {
        APIError.Cause(reason: error.kind.rawValue, field: error.field, message: error.body)
    }
}
