import Foundation
import KubeClient

/// The `admission.k8s.io/v1` AdmissionReview a webhook receives and answers. Pure: building the
/// request and checking the answer (which is network input: every malformed answer is a typed
/// error, never a crash).
enum AdmissionReview {
    /// What the request tells the webhook about the operation.
    struct Request: Sendable {
        var uid: String
        var operation: String
        var object: JSONValue
        var oldObject: JSONValue?
        var namespace: String
        var name: String
        var username: String
        var groups: [String]
        var dryRun: Bool
    }

    /// A webhook's verdict.
    struct Response: Sendable, Equatable {
        var allowed: Bool
        /// `response.status` (message, reason, code), when given.
        var message: String
        var reason: String
        var code: Int?
        /// The JSON patch operations, when the webhook mutates.
        var patch: JSONValue?
    }

    static func body(_ request: Request) -> JSONValue {
        let kind: JSONValue = ["group": "", "version": "v1", "kind": "Pod"]
        let resource: JSONValue = ["group": "", "version": "v1", "resource": "pods"]
        var review: JSONValue = [
            "uid": .string(request.uid), "kind": kind, "resource": resource, "requestKind": kind, "requestResource": resource,
            "name": .string(request.name), "namespace": .string(request.namespace), "operation": .string(request.operation),
            "userInfo": ["username": .string(request.username), "groups": .array(request.groups.map(JSONValue.string))],
            "object": request.object, "oldObject": request.oldObject ?? .null, "dryRun": .bool(request.dryRun),
            "options": request.operation == "CREATE"
                ? ["kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"] : ["kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"],
        ]
        if request.name.isEmpty { review["name"] = nil }
        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": review]
    }

    /// Checks a webhook's answer against the request it answers, as the API server does.
    static func parse(_ bytes: [UInt8], uid: String) throws(AdmissionReviewError) -> Response {
        let value: JSONValue
        do { value = try JSONBytes.decode(bytes) } catch { throw .notJSON("\(error)") }
        guard value.objectValue != nil else { throw .notJSON("the body is not a JSON object") }
        let apiVersion = value["apiVersion"]?.stringValue ?? "", kind = value["kind"]?.stringValue ?? ""
        guard apiVersion == "admission.k8s.io/v1", kind == "AdmissionReview" else {
            throw .wrongKind(apiVersion: apiVersion, kind: kind)
        }
        guard let response = value["response"], response.objectValue != nil else { throw .missingResponse }
        let answeredUID = response["uid"]?.stringValue ?? ""
        guard answeredUID == uid else { throw .uidMismatch(expected: uid, got: answeredUID) }
        guard let allowed = response["allowed"]?.boolValue else { throw .missingAllowed }
        let status = response["status"]
        var result = Response(
            allowed: allowed, message: status?["message"]?.stringValue ?? "", reason: status?["reason"]?.stringValue ?? "",
            code: status?["code"]?.intValue, patch: nil)
        let patchType = response["patchType"]?.stringValue
        if let encoded = response["patch"]?.stringValue, !encoded.isEmpty {
            guard allowed else { return result }
            guard patchType == "JSONPatch" else { throw .patchType(patchType ?? "") }
            guard let data = Data(base64Encoded: encoded) else { throw .patchNotBase64 }
            let operations: JSONValue
            do { operations = try JSONBytes.decode(Array(data)) } catch { throw .patchNotJSON("\(error)") }
            guard operations.arrayValue != nil else { throw .patchNotJSON("the patch is not a JSON array of operations") }
            result.patch = operations
        } else if let patchType, !patchType.isEmpty, patchType != "JSONPatch" {
            throw .patchType(patchType)
        }
        return result
    }
}

/// Why a webhook's answer was not usable; the text follows `failed calling webhook "NAME": `.
enum AdmissionReviewError: Error, Sendable, Equatable, CustomStringConvertible {
    case notJSON(String)
    case wrongKind(apiVersion: String, kind: String)
    case missingResponse
    case uidMismatch(expected: String, got: String)
    case missingAllowed
    case patchType(String)
    case patchNotBase64
    case patchNotJSON(String)

    var description: String {
        switch self {
        case .notJSON(let why): "the webhook's answer is not JSON (\(why)); it must be an admission.k8s.io/v1 AdmissionReview"
        case .wrongKind(let apiVersion, let kind):
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(apiVersion), Kind=\(kind)"
        case .missingResponse: "the webhook's AdmissionReview has no response"
        case .uidMismatch(let expected, let got): "expected response.uid=\"\(expected)\", got \"\(got)\""
        case .missingAllowed: "the webhook's response does not say whether the request is allowed (response.allowed)"
        case .patchType(let type): "unsupported patch type \"\(type)\"; the webhook must answer patchType JSONPatch"
        case .patchNotBase64: "the webhook's patch is not base64"
        case .patchNotJSON(let why): "the webhook's patch is not a JSON patch (\(why))"
        }
    }
}
