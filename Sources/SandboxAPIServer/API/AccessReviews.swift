import Foundation
import KubeClient
import SandboxAPIMachinery

/// The review kinds, answered and never stored: SelfSubjectAccessReview (`kubectl auth can-i`),
/// SubjectAccessReview and LocalSubjectAccessReview (the same question about someone else),
/// SelfSubjectRulesReview (`kubectl auth can-i --list`), SelfSubjectReview (`kubectl auth
/// whoami`) and TokenReview. Each comes back as it was sent, with its `status` filled in (201).
extension KubernetesAPI {
    func review(_ request: APIRequest, _ path: ResourcePath) throws(APIError) -> APIResponse {
        var review = try request.decodedBody()
        guard review.objectValue != nil else { throw APIError.badRequest("the request body must be a JSON object") }
        if let kind = review["kind"]?.stringValue, kind != path.type.kind {
            throw APIError.badRequest("the API version in the data (\(review["apiVersion"]?.stringValue ?? "")) does not match the expected API version (\(path.type.apiVersion))")
        }
        let spec = review["spec"] ?? [:]
        switch path.type.kind {
        case "SelfSubjectAccessReview":
            review["status"] = try accessStatus(spec, user: request.userInfo, kind: path.type.kind)
        case "SubjectAccessReview", "LocalSubjectAccessReview":
            if path.type.kind == "LocalSubjectAccessReview" {
                let namespace = path.namespace ?? ""
                let asked = spec["resourceAttributes"]?["namespace"]?.stringValue ?? ""
                guard spec["resourceAttributes"] != nil, asked == namespace else {
                    throw APIError.badRequest("spec.resourceAttributes.namespace must match namespace: \(namespace)")
                }
            }
            let subject = UserInfo(
                name: spec["user"]?.stringValue ?? "", uid: spec["uid"]?.stringValue ?? "",
                groups: spec["groups"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                extra: (spec["extra"]?.objectValue ?? [:]).mapValues { $0.arrayValue?.compactMap(\.stringValue) ?? [] })
            if subject.name.isEmpty, subject.groups.isEmpty {
                throw invalid(path.type, review, [.init(reason: "FieldValueRequired", field: "spec.user", message: "Invalid value: \"\": at least one of user or group must be specified")])
            }
            review["status"] = try accessStatus(spec, user: subject, kind: path.type.kind)
        case "SelfSubjectRulesReview":
            let namespace = spec["namespace"]?.stringValue ?? ""
            let rules = RBACAuthorizer.rules(for: request.userInfo, namespace: namespace, policy: StoreRBACPolicy(store: store))
            review["status"] = [
                "resourceRules": .array(rules.filter { $0.nonResourceURLs.isEmpty }.map { rule in
                    var json = rule.json
                    if json["apiGroups"] == nil { json["apiGroups"] = [] }
                    return json
                }),
                "nonResourceRules": .array(rules.filter { !$0.nonResourceURLs.isEmpty }.map {
                    ["verbs": .array($0.verbs.map { .string($0) }), "nonResourceURLs": .array($0.nonResourceURLs.map { .string($0) })]
                }),
                "incomplete": false,
            ]
        case "SelfSubjectReview":
            review["status"] = ["userInfo": Self.userInfoJSON(request.userInfo)]
        case "TokenReview":
            let token = spec["token"]?.stringValue ?? ""
            if case .user(let user) = authenticate(certificate: nil, bearerToken: token.isEmpty ? nil : token) {
                review["status"] = ["authenticated": true, "user": Self.userInfoJSON(user),
                                    "audiences": [.string(ServiceAccountTokenClaims.defaultIssuer)]]
            } else {
                review["status"] = ["user": [:], "error": "invalid bearer token"]
            }
        default:
            throw APIError.pathNotFound()
        }
        review["kind"] = .string(path.type.kind)
        review["apiVersion"] = .string(path.type.apiVersion)
        var metadata = review["metadata"]?.objectValue ?? [:]
        metadata["creationTimestamp"] = metadata["creationTimestamp"] ?? .null
        review["metadata"] = .object(metadata)
        return .json(review, status: 201)
    }

    /// The status of an access review: what the authorizer says about `user` doing what the
    /// spec's resourceAttributes or nonResourceAttributes describe.
    private func accessStatus(_ spec: JSONValue, user: UserInfo, kind: String) throws(APIError) -> JSONValue {
        let attributes: RequestAttributes
        func present(_ key: String) -> JSONValue? { spec[key].flatMap { $0.isNull ? nil : $0 } }
        switch (present("resourceAttributes"), present("nonResourceAttributes")) {
        case (let resource?, nil):
            func field(_ name: String) -> String { resource[name]?.stringValue ?? "" }
            attributes = RequestAttributes(
                user: user, verb: field("verb"), apiGroup: field("group"), apiVersion: field("version"), namespace: field("namespace"),
                resource: field("resource"), subresource: field("subresource"), name: field("name"))
        case (nil, let nonResource?):
            attributes = RequestAttributes(user: user, verb: nonResource["verb"]?.stringValue ?? "", path: nonResource["path"]?.stringValue ?? "")
        default:
            throw APIError.invalid(kind: kind, group: "authorization.k8s.io", name: "", causes: [
                .init(reason: "FieldValueInvalid", field: "spec.resourceAttributes", message: "Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified"),
            ])
        }
        let decision = authorize(attributes)
        var status: JSONValue = ["allowed": .bool(decision.allowed)]
        if !decision.reason.isEmpty { status["reason"] = .string(decision.reason) }
        return status
    }

    static func userInfoJSON(_ user: UserInfo) -> JSONValue {
        var json: JSONValue = ["username": .string(user.name), "groups": .array(user.groups.map { .string($0) })]
        if !user.uid.isEmpty { json["uid"] = .string(user.uid) }
        if !user.extra.isEmpty { json["extra"] = .object(user.extra.mapValues { .array($0.map { .string($0) }) }) }
        return json
    }
}
