import KubeClient
import SandboxAPIMachinery

/// A failed API request as Kubernetes reports it: an HTTP code and a `Status` object whose
/// reason and message match what the real API server says, so clients print the same errors.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public let code: Int
    public let reason: String
    public let message: String
    public var details: JSONValue?

    public init(code: Int, reason: String, message: String, details: JSONValue? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { message }

    public var status: JSONValue {
        var object: JSONValue = [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
            "message": .string(message), "reason": .string(reason), "code": .number(Double(code)),
        ]
        if let details { object["details"] = details }
        return object
    }

    static func details(_ name: String, _ type: ResourceType) -> JSONValue {
        var d: JSONValue = ["name": .string(name), "kind": .string(type.plural)]
        if !type.group.isEmpty { d["group"] = .string(type.group) }
        return d
    }

    public static func notFound(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 404, reason: "NotFound", message: "\(type.qualifiedName) \"\(name)\" not found",
            details: details(name, type))
    }

    public static func alreadyExists(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "AlreadyExists", message: "\(type.qualifiedName) \"\(name)\" already exists",
            details: details(name, type))
    }

    public static func conflict(_ type: ResourceType, _ name: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
            details: details(name, type))
    }

    /// One field error of a 422: `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
    public struct Cause: Sendable {
        public var reason: String  // FieldValueInvalid, FieldValueRequired, ...
        public var field: String
        public var message: String
        public init(reason: String, field: String, message: String) {
            self.reason = reason
            self.field = field
            self.message = message
        }
    }

    /// A 422 as `errors.NewInvalid` makes it: `Deployment.apps "web" is invalid: spec.replicas: ...`
    /// (the kind qualified by its group; several causes in brackets; a message given twice once).
    public static func invalid(kind: String, group: String, name: String, causes: [Cause]) -> APIError {
        var seen: Set<String> = []
        let summary = causes.map { "\($0.field): \($0.message)" }.filter { seen.insert($0).inserted }
        let joined = summary.count == 1 ? summary[0] : "[" + summary.joined(separator: ", ") + "]"
        let qualifiedKind = group.isEmpty ? kind : "\(kind).\(group)"
        var d: JSONValue = [
            "causes": .array(causes.map {
                ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)]
            }),
        ]
        if !name.isEmpty { d["name"] = .string(name) }
        if !kind.isEmpty { d["kind"] = .string(kind) }
        if !group.isEmpty { d["group"] = .string(group) }
        return APIError(
            code: 422, reason: "Invalid", message: "\(qualifiedKind) \(GoQuote.quote(name)) is invalid: \(joined)", details: d)
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func expired(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    public static func methodNotAllowed(_ message: String = "the server does not allow this method on the requested resource") -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message)
    }

    public static func unsupportedMediaType(_ contentType: String) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got \(contentType))")
    }

    public static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    public static func pathNotFound() -> APIError {
        APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource")
    }
}
