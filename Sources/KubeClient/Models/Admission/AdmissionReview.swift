import Foundation

/// The `admission.k8s.io/v1` AdmissionReview: what an API server sends an admission webhook
/// (`request`) and what the webhook answers (`response`). One codec for both ends: the
/// traffic-manager's agent injector reads requests and writes responses, the sandbox's API
/// server writes requests and reads responses. Both read network input through
/// `decodeRequest`/`decodeResponse`, which turn every malformed body into a typed error.
public struct AdmissionReview: Codable, Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var request: AdmissionRequest?
    public var response: AdmissionResponse?

    public init(request: AdmissionRequest? = nil, response: AdmissionResponse? = nil) {
        apiVersion = Self.apiVersion
        kind = Self.kind
        self.request = request
        self.response = response
    }

    public static let apiVersion = "admission.k8s.io/v1"
    public static let kind = "AdmissionReview"

    /// The JSON body (sorted keys, so equal reviews are equal bytes).
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every member is a plain value or a JSONValue: encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// A webhook's side: the request an API server sent, checked as a webhook must before
    /// answering (the right kind, a request with a uid and an operation).
    public static func decodeRequest(_ body: some Collection<UInt8>) throws(AdmissionReviewError) -> AdmissionRequest {
        let review = try decode(body)
        guard let request = review.request else { throw .missingRequest }
        guard !request.uid.isEmpty else { throw .missingUID }
        return request
    }

    /// An API server's side: the answer to the request with `uid`, checked as the API server
    /// checks it (the right kind, the same uid, `allowed` given, a JSON patch when patched).
    public static func decodeResponse(_ body: some Collection<UInt8>, uid: String) throws(AdmissionReviewError) -> AdmissionResponse {
        let review = try decode(body)
        guard let response = review.response else { throw .missingResponse }
        guard response.uid == uid else { throw .uidMismatch(expected: uid, got: response.uid) }
        guard response.allowed != nil else { throw .missingAllowed }
        if response.allowed == true, let patch = response.patch, !patch.isEmpty {
            guard response.patchType == "JSONPatch" else { throw .patchType(response.patchType ?? "") }
            _ = try response.jsonPatch()
        } else if let patchType = response.patchType, !patchType.isEmpty, patchType != "JSONPatch" {
            throw .patchType(patchType)
        }
        return response
    }

    private static func decode(_ body: some Collection<UInt8>) throws(AdmissionReviewError) -> AdmissionReview {
        let value: JSONValue
        do { value = try JSONValue(data: Data(body)) } catch { throw .notJSON("\(error)") }
        guard case .object = value else { throw .notJSON("the body is not a JSON object") }
        let apiVersion = value["apiVersion"]?.stringValue ?? "", kind = value["kind"]?.stringValue ?? ""
        guard apiVersion == Self.apiVersion, kind == Self.kind else { throw .wrongKind(apiVersion: apiVersion, kind: kind) }
        do {
            return try value.decode(as: AdmissionReview.self)
        } catch {
            throw .malformed(Self.describe(error))
        }
    }

    /// A decoding error as the field path it happened at.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        let (context, what): (DecodingError.Context, String) = switch error {
        case .typeMismatch(let type, let context): (context, "expected \(type)")
        case .valueNotFound(let type, let context): (context, "missing \(type)")
        case .keyNotFound(let key, let context): (context, "missing \(key.stringValue)")
        case .dataCorrupted(let context): (context, "invalid")
        @unknown default: (DecodingError.Context(codingPath: [], debugDescription: ""), "\(error)")
        }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return "\(path.isEmpty ? "the review" : String(path.dropFirst())): \(what)"
    }
}

/// A group, version and kind (`{"group":"","version":"v1","kind":"Pod"}`).
public struct GroupVersionKind: Codable, Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String

    public init(group: String, version: String, kind: String) {
        self.group = group
        self.version = version
        self.kind = kind
    }
}

/// A group, version and resource (`{"group":"","version":"v1","resource":"pods"}`).
public struct GroupVersionResource: Codable, Sendable, Hashable {
    public var group: String
    public var version: String
    public var resource: String

    public init(group: String, version: String, resource: String) {
        self.group = group
        self.version = version
        self.resource = resource
    }
}

/// What the API server tells a webhook about the operation it is admitting.
public struct AdmissionRequest: Codable, Sendable, Equatable {
    public enum Operation: String, Codable, Sendable {
        case create = "CREATE", update = "UPDATE", delete = "DELETE", connect = "CONNECT"
    }

    /// Who asked (`system:serviceaccount:NS:NAME` for a controller's service account).
    public struct UserInfo: Codable, Sendable, Equatable {
        public var username: String?
        public var uid: String?
        public var groups: [String]?

        public init(username: String? = nil, uid: String? = nil, groups: [String]? = nil) {
            self.username = username
            self.uid = uid
            self.groups = groups
        }
    }

    /// Echoed in the response.
    public var uid: String
    public var kind: GroupVersionKind
    public var resource: GroupVersionResource
    public var subResource: String?
    public var requestKind: GroupVersionKind?
    public var requestResource: GroupVersionResource?
    /// Empty on a CREATE whose object has only `generateName`.
    public var name: String?
    public var namespace: String?
    public var operation: Operation
    public var userInfo: UserInfo
    /// The object as it will be stored (CREATE, UPDATE) and as it was (UPDATE, DELETE).
    public var object: JSONValue?
    public var oldObject: JSONValue?
    public var dryRun: Bool?
    /// CreateOptions, UpdateOptions or DeleteOptions.
    public var options: JSONValue?

    public init(
        uid: String, kind: GroupVersionKind, resource: GroupVersionResource, subResource: String? = nil,
        name: String? = nil, namespace: String? = nil, operation: Operation, userInfo: UserInfo = UserInfo(),
        object: JSONValue? = nil, oldObject: JSONValue? = nil, dryRun: Bool? = nil, options: JSONValue? = nil
    ) {
        self.uid = uid
        self.kind = kind
        self.resource = resource
        self.subResource = subResource
        self.requestKind = kind
        self.requestResource = resource
        self.name = name
        self.namespace = namespace
        self.operation = operation
        self.userInfo = userInfo
        self.object = object
        self.oldObject = oldObject
        self.dryRun = dryRun
        self.options = options
    }
}

/// A webhook's verdict on one request.
public struct AdmissionResponse: Codable, Sendable, Equatable {
    /// The request's uid.
    public var uid: String
    /// Required on the wire; optional here only so that an answer without it is a typed error.
    public var allowed: Bool?
    /// Why a request was refused (message, reason, code).
    public var status: Status?
    /// The JSON patch to apply, base64 of its JSON array.
    public var patch: String?
    /// `JSONPatch`, the only type there is.
    public var patchType: String?
    public var warnings: [String]?

    public init(uid: String, allowed: Bool, status: Status? = nil, patch: String? = nil, patchType: String? = nil, warnings: [String]? = nil) {
        self.uid = uid
        self.allowed = allowed
        self.status = status
        self.patch = patch
        self.patchType = patchType
        self.warnings = warnings
    }

    /// Allows the request, mutating the object with `patch` when it has operations.
    public static func allowing(uid: String, patch: JSONPatch = JSONPatch(), warnings: [String]? = nil) -> AdmissionResponse {
        guard !patch.operations.isEmpty else { return AdmissionResponse(uid: uid, allowed: true, warnings: warnings) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = (try? encoder.encode(patch)) ?? Data("[]".utf8)
        return AdmissionResponse(uid: uid, allowed: true, patch: bytes.base64EncodedString(), patchType: "JSONPatch", warnings: warnings)
    }

    /// Refuses the request; `message` is what the user's client shows.
    public static func denying(uid: String, message: String, code: Int = 403, reason: String? = nil) -> AdmissionResponse {
        AdmissionResponse(uid: uid, allowed: false, status: Status(status: "Failure", message: message, reason: reason, code: code))
    }

    /// The patch's operations, or an empty patch when there is none.
    public func jsonPatch() throws(AdmissionReviewError) -> JSONPatch {
        guard let patch, !patch.isEmpty else { return JSONPatch() }
        guard let bytes = Data(base64Encoded: patch) else { throw .patchNotBase64 }
        let operations: JSONValue
        do { operations = try JSONValue(data: bytes) } catch { throw .patchNotJSON("\(error)") }
        guard case .array = operations else { throw .patchNotJSON("the patch is not a JSON array of operations") }
        do { return try operations.decode(as: JSONPatch.self) } catch { throw .patchNotJSON("\(error)") }
    }
}

/// Why a review body was not usable; the API server's text follows `failed calling webhook "NAME": `.
public enum AdmissionReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON(String)
    case wrongKind(apiVersion: String, kind: String)
    case malformed(String)
    case missingRequest
    case missingUID
    case missingResponse
    case uidMismatch(expected: String, got: String)
    case missingAllowed
    case patchType(String)
    case patchNotBase64
    case patchNotJSON(String)

    public var description: String {
        switch self {
        case .notJSON(let why): "the body is not JSON (\(why)); it must be an admission.k8s.io/v1 AdmissionReview"
        case .wrongKind(let apiVersion, let kind):
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(apiVersion), Kind=\(kind)"
        case .malformed(let why): "the AdmissionReview is malformed (\(why))"
        case .missingRequest: "the AdmissionReview has no request"
        case .missingUID: "the AdmissionReview's request has no uid"
        case .missingResponse: "the webhook's AdmissionReview has no response"
        case .uidMismatch(let expected, let got): "expected response.uid=\"\(expected)\", got \"\(got)\""
        case .missingAllowed: "the webhook's response does not say whether the request is allowed (response.allowed)"
        case .patchType(let type): "unsupported patch type \"\(type)\"; the webhook must answer patchType JSONPatch"
        case .patchNotBase64: "the webhook's patch is not base64"
        case .patchNotJSON(let why): "the webhook's patch is not a JSON patch (\(why))"
        }
    }
}
