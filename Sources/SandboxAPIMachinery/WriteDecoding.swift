import Foundation
import KubeClient

/// How the object of a write is decoded into its kind's types, by where the object comes from,
/// and what the real server answers when it cannot be, so that the sandbox stores only what a
/// real cluster would and refuses what it refuses:
///
/// - a create or update body: 400 `Deployment in version "v1" cannot be handled as a Deployment:
///   json: cannot unmarshal ...`, or `... strict decoding error: unknown field "spec.foo"` under
///   `fieldValidation=Strict`;
/// - the result of a JSON or merge patch: 422 ` "" is invalid: patch: Invalid value: "{...}": json: ...`;
/// - the result of a strategic merge patch: 422 with the patch shown as Go prints it
///   (`map[spec:map[replicas:two]]`) and the unstructured converter's error;
/// - an object an admission webhook patched: 500 `Internal error occurred: json: ...`.
///
/// Unknown and duplicate fields are dropped; with `Warn` (the default) they come back as
/// warnings for the response's `Warning` headers.
public enum WriteDecoding {
    public struct Decoded: Sendable, Equatable {
        public var object: JSONValue
        public var warnings: [String]
    }

    public enum Refusal: Error, Sendable, Equatable {
        /// 400 BadRequest.
        case badRequest(String)
        /// 422 Invalid of no kind and no name, with this cause at `patch`.
        case invalidPatch(FieldError)
        /// 500 InternalError; the message is the cause.
        case internalError(String)
    }

    // MARK: Create and update bodies

    /// A JSON body, read from its bytes (document order, duplicates, number literals).
    public static func body(json bytes: [UInt8], kind: String, version: String, directive: FieldValidationDirective) -> Result<Decoded, Refusal> {
        let document: OrderedJSON
        do {
            document = try OrderedJSON.parse(bytes)
        } catch {
            return .failure(unrecognized(kind, "couldn't get version/kind; json parse error: \(error.message)", bytes))
        }
        return body(document, kind: kind, version: version, directive: directive, original: bytes)
    }

    /// A body already read into a tree (YAML, protobuf).
    public static func body(_ value: JSONValue, kind: String, version: String, directive: FieldValidationDirective) -> Result<Decoded, Refusal> {
        body(OrderedJSON(value), kind: kind, version: version, directive: directive, original: Array((try? value.data()) ?? Data()))
    }

    static func body(_ document: OrderedJSON, kind: String, version: String, directive: FieldValidationDirective, original: [UInt8]) -> Result<Decoded, Refusal> {
        // The serializer reads apiVersion and kind first, into a struct of two strings.
        guard case .object(let members) = document else {
            return .failure(unrecognized(kind, "couldn't get version/kind; json parse error: json: cannot unmarshal \(document.goKind) into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }", original))
        }
        var bodyKind = "", bodyVersion = ""
        for member in members where ["apiversion", "kind"].contains(member.key.lowercased()) {
            let isKind = member.key.lowercased() == "kind"
            switch member.value {
            case .string(let text):
                if isKind { bodyKind = text } else { bodyVersion = text }
            case .null: break
            default:
                let field = isKind ? "kind" : "apiVersion"
                return .failure(unrecognized(kind, "couldn't get version/kind; json parse error: json: cannot unmarshal \(member.value.goKind) into Go struct field .\(field) of type string", original))
            }
        }
        let shownKind = bodyKind.isEmpty ? kind : bodyKind
        let shownVersion = bodyVersion.isEmpty ? version : String(bodyVersion.split(separator: "/").last ?? "")
        func cannotHandle(_ message: String) -> Refusal {
            .badRequest("\(shownKind) in version \(GoQuote.quote(shownVersion)) cannot be handled as a \(kind): \(message)")
        }
        let result: TypedDecoder.Result
        do {
            result = try TypedDecoder.decode(document, as: kind)
        } catch {
            return .failure(cannotHandle(error.message))
        }
        switch (directive, result.strictErrors.isEmpty) {
        case (_, true), (.ignore, _): return .success(Decoded(object: result.object, warnings: []))
        case (.warn, false): return .success(Decoded(object: result.object, warnings: result.strictErrors))
        case (.strict, false): return .failure(cannotHandle(strictDecodingError(result.strictErrors)))
        }
    }

    /// `the object provided is unrecognized (must be of type Deployment): ... ({"metadata": ...)`.
    static func unrecognized(_ kind: String, _ message: String, _ body: [UInt8]) -> Refusal {
        .badRequest("the object provided is unrecognized (must be of type \(kind)): \(message) (\(summary(body)))")
    }

    /// The first 30 bytes of a body, as the real server quotes it.
    static func summary(_ body: [UInt8]) -> String {
        guard let first = body.first else { return "<empty>" }
        let hex = Array("0123456789abcdef")
        let head = body.prefix(30)
        let text = first == UInt8(ascii: "{")
            ? String(decoding: head, as: UTF8.self)
            : head.map { "\(hex[Int($0 >> 4)])\(hex[Int($0 & 15)])" }.joined()
        return body.count > 30 ? text + " ..." : text
    }

    static func strictDecodingError(_ errors: [String]) -> String {
        "strict decoding error: " + errors.joined(separator: ", ")
    }

    // MARK: Patch results

    /// The strict errors of a patch document itself (`duplicate field "spec.replicas"`; for a
    /// JSON patch, `json patch unknown field "[0].foo"`), which the real server adds to those of
    /// the result. None under `Ignore`.
    public static func patchDocumentErrors(_ bytes: [UInt8], jsonPatch: Bool, directive: FieldValidationDirective) -> Result<[String], Refusal> {
        guard directive != .ignore else { return .success([]) }
        let document: OrderedJSON
        do {
            document = try OrderedJSON.parse(bytes)
        } catch {
            return .failure(.badRequest("error decoding patch: \(error.message)"))
        }
        guard jsonPatch else {
            var errors: [String] = []
            duplicates(document, path: "", into: &errors)
            return .success(errors)
        }
        guard case .array(let operations) = document else {
            return .failure(.badRequest("error decoding patch: json: cannot unmarshal \(document.goKind) into Go value of type []handlers.jsonPatchOp"))
        }
        var errors: [String] = []
        for (i, operation) in operations.enumerated() {
            guard case .object(let members) = operation else { continue }
            var seen: Set<String> = []
            for member in members {
                let path = "[\(i)].\(member.key)"
                if ["op", "path", "from", "value"].contains(member.key) {
                    if !seen.insert(member.key).inserted { errors.append("json patch duplicate field \(GoQuote.quote(path))") }
                    if member.key == "value" { duplicates(member.value, path: "[\(i)].value", into: &errors, prefix: "json patch ") }
                } else {
                    errors.append("json patch unknown field \(GoQuote.quote(path))")
                }
            }
        }
        return .success(errors)
    }

    /// Duplicate keys anywhere in a document decoded into `map[string]interface{}`.
    static func duplicates(_ node: OrderedJSON, path: String, into errors: inout [String], prefix: String = "") {
        switch node {
        case .object(let members):
            var seen: Set<String> = []
            for member in members {
                let child = path.isEmpty ? member.key : path + "." + member.key
                if !seen.insert(member.key).inserted { errors.append("\(prefix)duplicate field \(GoQuote.quote(child))") }
                duplicates(member.value, path: child, into: &errors, prefix: prefix)
            }
        case .array(let items):
            for (i, item) in items.enumerated() { duplicates(item, path: path + "[\(i)]", into: &errors, prefix: prefix) }
        default: break
        }
    }

    /// The result of a JSON patch or merge patch, decoded as JSON (the real server encodes the
    /// object, patches the JSON and decodes it).
    public static func jsonPatched(_ result: JSONValue, kind: String, directive: FieldValidationDirective, patchErrors: [String]) -> Result<Decoded, Refusal> {
        let shown = String(decoding: (try? result.data()) ?? Data(), as: UTF8.self)
        let decoded: TypedDecoder.Result
        do {
            decoded = try TypedDecoder.decode(result, as: kind)
        } catch {
            return .failure(.invalidPatch(.invalid("patch", shown, error.message)))
        }
        return strict(decoded.object, patchErrors + decoded.strictErrors, directive: directive, shown: shown)
    }

    /// The result of a strategic merge patch (or the sandbox's stand-in for server-side apply),
    /// converted as the real server converts it: from the merged map, without JSON.
    public static func strategicPatched(_ result: JSONValue, patch: JSONValue, kind: String, directive: FieldValidationDirective,
                                        patchErrors: [String]) -> Result<Decoded, Refusal> {
        let shown = GoSyntax.plusV(patch)
        let converted: TypedDecoder.Result
        do {
            converted = try UnstructuredConverter.convert(result, as: kind)
        } catch {
            return .failure(.invalidPatch(.invalid("patch", shown, error.message)))
        }
        return strict(converted.object, patchErrors + converted.strictErrors, directive: directive, shown: shown)
    }

    static func strict(_ object: JSONValue, _ errors: [String], directive: FieldValidationDirective, shown: String) -> Result<Decoded, Refusal> {
        switch (directive, errors.isEmpty) {
        case (_, true), (.ignore, _): return .success(Decoded(object: object, warnings: []))
        case (.warn, false): return .success(Decoded(object: object, warnings: errors))
        case (.strict, false): return .failure(.invalidPatch(.invalid("patch", shown, strictDecodingError(errors))))
        }
    }

    // MARK: Admission

    /// An object a mutating webhook's JSON patch produced: decoded without strictness (unknown
    /// fields are dropped silently); a type error is the server's 500.
    public static func admissionPatched(_ value: JSONValue, kind: String) -> Result<JSONValue, Refusal> {
        do {
            return .success(try TypedDecoder.decode(value, as: kind).object)
        } catch {
            return .failure(.internalError(error.message))
        }
    }
}
