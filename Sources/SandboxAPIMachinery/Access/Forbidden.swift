/// A denied request as the API server reports it (403, reason `Forbidden`): the message
/// `pods "web" is forbidden: User "alice" cannot get resource "pods" in API group "" in the
/// namespace "demo"` (or `at the cluster scope`, or `cannot get path "/x"`), followed by the
/// authorizer's reason when it gave one, and the details' group, kind (the resource) and name.
public struct Forbidden: Sendable, Hashable, Error {
    public var message: String
    public var group: String
    /// The resource (plural), as `details.kind` carries it.
    public var kind: String
    public var name: String

    public init(_ request: RequestAttributes, reason: String = "") {
        var text: String
        let user = quoted(request.user.name)
        if !request.isResourceRequest {
            text = "User \(user) cannot \(request.verb) path \(quoted(request.path))"
        } else if !request.namespace.isEmpty {
            text = "User \(user) cannot \(request.verb) resource \(quoted(request.combinedResource)) in API group \(quoted(request.apiGroup)) in the namespace \(quoted(request.namespace))"
        } else {
            text = "User \(user) cannot \(request.verb) resource \(quoted(request.combinedResource)) in API group \(quoted(request.apiGroup)) at the cluster scope"
        }
        if !reason.isEmpty { text += ": " + reason }
        // The group-resource without the subresource: `pods`, `deployments.apps`.
        let qualified = request.apiGroup.isEmpty ? request.resource : "\(request.resource).\(request.apiGroup)"
        if qualified.isEmpty {
            message = "forbidden: " + text
        } else if request.name.isEmpty {
            message = "\(qualified) is forbidden: " + text
        } else {
            message = "\(qualified) \(quoted(request.name)) is forbidden: " + text
        }
        group = request.apiGroup
        kind = request.resource
        name = request.name
    }
}
