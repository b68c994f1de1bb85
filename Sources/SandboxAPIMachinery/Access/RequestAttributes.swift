import Foundation

/// What a request asks to do, as Kubernetes' authorizers see it: a verb on a resource (with
/// group, namespace, subresource and name) or on a non-resource path (`/healthz`, `/api`).
public struct RequestAttributes: Sendable, Hashable {
    public var user: UserInfo
    public var verb: String
    public var isResourceRequest: Bool
    /// The URL path of a non-resource request.
    public var path: String
    public var apiGroup: String
    public var apiVersion: String
    public var namespace: String
    public var resource: String
    public var subresource: String
    public var name: String

    /// A request on a resource.
    public init(
        user: UserInfo, verb: String, apiGroup: String = "", apiVersion: String = "v1", namespace: String = "",
        resource: String, subresource: String = "", name: String = ""
    ) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = true
        self.path = ""
        self.apiGroup = apiGroup
        self.apiVersion = apiVersion
        self.namespace = namespace
        self.resource = resource
        self.subresource = subresource
        self.name = name
    }

    /// A request on a path that names no resource (discovery, health, OpenAPI).
    public init(user: UserInfo, verb: String, path: String) {
        self.user = user
        self.verb = verb
        self.isResourceRequest = false
        self.path = path
        self.apiGroup = ""
        self.apiVersion = ""
        self.namespace = ""
        self.resource = ""
        self.subresource = ""
        self.name = ""
    }

    /// `pods/exec`, or `pods` without a subresource: what RBAC rules name.
    public var combinedResource: String { subresource.isEmpty ? resource : "\(resource)/\(subresource)" }

    /// Reads the attributes off an HTTP request as the API server's request-info factory does:
    /// `/api/v1/...` and `/apis/GROUP/VERSION/...` are resource requests (`namespaces/NS/` moves
    /// the rest into that namespace; `/api/v1/namespaces/NS` is the namespace NS itself); the
    /// method gives the verb, a GET without a name is `list` (or `watch` with `watch=true`), a
    /// DELETE without a name is `deletecollection`, and a list or watch whose field selector
    /// pins `metadata.name` names that object. Everything else is a non-resource request.
    public init(user: UserInfo, method: String, path: String, query: [String: String]) {
        let parts = path.split(separator: "/").map(String.init)
        let methodVerb: String
        switch method {
        case "POST": methodVerb = "create"
        case "GET", "HEAD": methodVerb = "get"
        case "PUT": methodVerb = "update"
        case "PATCH": methodVerb = "patch"
        case "DELETE": methodVerb = "delete"
        default: methodVerb = ""
        }
        var rest: ArraySlice<String>
        var group = ""
        if parts.count >= 3, parts[0] == "api" {
            rest = parts[1...]
        } else if parts.count >= 4, parts[0] == "apis" {
            group = parts[1]
            rest = parts[2...]
        } else {
            self.init(user: user, verb: methodVerb.isEmpty ? method.lowercased() : methodVerb, path: path)
            return
        }
        let version = rest.removeFirst()
        var namespace = ""
        if rest.first == "namespaces", rest.count > 1 {
            namespace = rest[rest.startIndex + 1]
            // `namespaces/NS/status` and `namespaces/NS/finalize` are the namespace's own subresources.
            if rest.count > 2, !["status", "finalize"].contains(rest[rest.startIndex + 2]) {
                rest = rest.dropFirst(2)
            }
        }
        let resourceParts = Array(rest)
        var verb = methodVerb
        var name = resourceParts.count > 1 ? resourceParts[1] : ""
        let subresource = resourceParts.count > 2 ? resourceParts[2] : ""
        if name.isEmpty, verb == "get" {
            verb = Self.isTrue(query["watch"]) ? "watch" : "list"
            if let pinned = Self.exactName(fieldSelector: query["fieldSelector"] ?? "") { name = pinned }
        }
        if name.isEmpty, verb == "delete" { verb = "deletecollection" }
        self.init(user: user, verb: verb, apiGroup: group, apiVersion: version, namespace: namespace,
                  resource: resourceParts.first ?? "", subresource: subresource, name: name)
    }

    /// Go's strconv.ParseBool, true side (the Python client sends `watch=True`).
    static func isTrue(_ text: String?) -> Bool {
        ["1", "t", "T", "true", "TRUE", "True"].contains(text ?? "")
    }

    /// The name a field selector requires exactly (`metadata.name=web`, `metadata.name==web`),
    /// when it has no other term that could widen it.
    static func exactName(fieldSelector: String) -> String? {
        for term in fieldSelector.split(separator: ",") {
            let text = term.trimmingCharacters(in: .whitespaces)
            for op in ["==", "="] {
                guard let range = text.range(of: op) else { continue }
                if text[..<range.lowerBound].hasSuffix("!") { break }
                let key = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
                if key == "metadata.name", !value.isEmpty, !value.contains("/") { return value }
                break
            }
        }
        return nil
    }
}
