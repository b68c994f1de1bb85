import Foundation
import KubeClient
import SandboxAPIMachinery

/// `serviceaccounts/NAME/token` (TokenRequest, `authentication.k8s.io/v1`, what `kubectl create
/// token` sends): a token for the service account, valid for `spec.expirationSeconds` (default
/// an hour, at least ten minutes), optionally bound to a pod or secret of its namespace, so it
/// stops working when that object goes. The answer is the request with `status.token` and
/// `status.expirationTimestamp` (201).
extension KubernetesAPI {
    static let defaultTokenLifetime = 3600
    static let minimumTokenLifetime = 600

    func tokenRequest(_ request: APIRequest, _ path: ResourcePath, name: String) throws(APIError) -> APIResponse {
        let namespace = path.namespace ?? ""
        var tokenRequest = request.body.isEmpty ? [:] : try request.decodedBody()
        guard tokenRequest.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON object") }
        let account = try current(path, name: name)
        var spec = tokenRequest["spec"]?.objectValue ?? [:]
        func invalid(_ field: String, _ message: String, reason: String = "FieldValueInvalid") -> APIError {
            // The real message qualifies the kind with its group: `TokenRequest.authentication.k8s.io "sa" is invalid: …`.
            let error = APIError.invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: name, causes: [
                .init(reason: reason, field: field, message: message),
            ])
            return APIError(code: 422, reason: "Invalid", message: "TokenRequest.authentication.k8s.io \"\(name)\" is invalid: \(field): \(message)",
                            details: error.details)
        }
        let lifetime = spec["expirationSeconds"]?.intValue ?? Self.defaultTokenLifetime
        if lifetime < Self.minimumTokenLifetime {
            throw invalid("spec.expirationSeconds", "Invalid value: \(lifetime): may not specify a duration less than 10 minutes")
        }
        if lifetime > 1 << 32 {
            throw invalid("spec.expirationSeconds", "Invalid value: \(lifetime): may not specify a duration larger than 2^32 seconds")
        }
        var bound: ServiceAccountTokenClaims.BoundObject?
        if let reference = spec["boundObjectRef"], !reference.isNull {
            let kind = reference["kind"]?.stringValue ?? ""
            let objectName = reference["name"]?.stringValue ?? ""
            let type: ResourceType
            switch kind {
            case "Pod": type = ResourceCatalog.pods
            case "Secret": type = ResourceCatalog.lookup(apiVersion: "v1", plural: "secrets")!
            default:
                throw invalid("spec.boundObjectRef.kind", "Unsupported value: \"\(kind)\": supported values: \"Pod\", \"Secret\"", reason: "FieldValueNotSupported")
            }
            guard let object = store.get(type, namespace: namespace, name: objectName) else { throw APIError.notFound(type, objectName) }
            if kind == "Pod", (object.value["spec"]?["serviceAccountName"]?.stringValue ?? "default") != name {
                throw APIError.badRequest("cannot bind token for serviceaccount \"\(name)\" to pod running with different serviceaccount name.")
            }
            if let uid = reference["uid"]?.stringValue, !uid.isEmpty, uid != object.uid {
                throw APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(kind) \"\(objectName)\": the UID in the bound object reference (\(uid)) does not match the UID in record. The object might have been deleted and then recreated")
            }
            bound = .init(kind: kind, name: objectName, uid: object.uid)
            var withUID = reference
            withUID["uid"] = .string(object.uid)
            spec["boundObjectRef"] = withUID
        }
        let audiences = spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let issued = issueToken(namespace: namespace, serviceAccount: account, lifetime: lifetime,
                                audiences: audiences.isEmpty ? nil : audiences, boundObject: bound)
        spec["audiences"] = .array((audiences.isEmpty ? [ServiceAccountTokenClaims.defaultIssuer] : audiences).map { .string($0) })
        spec["expirationSeconds"] = .number(Double(lifetime))
        tokenRequest["kind"] = "TokenRequest"
        tokenRequest["apiVersion"] = "authentication.k8s.io/v1"
        tokenRequest["metadata"] = ["name": .string(name), "namespace": .string(namespace), "creationTimestamp": .string(Timestamp.now())]
        tokenRequest["spec"] = .object(spec)
        tokenRequest["status"] = [
            "token": .string(issued.token),
            "expirationTimestamp": .string(Timestamp.format(Date(timeIntervalSince1970: TimeInterval(issued.expiresAt)))),
        ]
        return .json(tokenRequest, status: 201)
    }
}
