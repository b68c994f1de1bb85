import KubeClient

/// Just enough OpenAPI v3 for kubectl 1.29+ `apply` to validate on the server: a root listing
/// each group-version and per group-version documents whose PATCH operations declare the
/// `fieldValidation` parameter. No schemas (so `kubectl explain` does not work). v2 is 404:
/// kubectl 1.27/1.28 need `--validate=false` (see README.md).
enum OpenAPIDocuments {
    static func relativePath(_ apiVersion: String) -> String {
        apiVersion.contains("/") ? "apis/\(apiVersion)" : "api/\(apiVersion)"
    }

    static let apiVersions: [String] = {
        var seen: [String] = []
        for type in ResourceCatalog.all where !seen.contains(type.apiVersion) { seen.append(type.apiVersion) }
        return seen
    }()

    static let root: JSONValue = {
        var paths: [String: JSONValue] = [:]
        for v in apiVersions {
            paths[relativePath(v)] = ["serverRelativeURL": .string("/openapi/v3/\(relativePath(v))?hash=sandbox1")]
        }
        return ["paths": .object(paths)]
    }()

    static func document(for relative: String) -> JSONValue? {
        guard let apiVersion = apiVersions.first(where: { relativePath($0) == relative }) else { return nil }
        var paths: [String: JSONValue] = [:]
        for type in ResourceCatalog.all where type.apiVersion == apiVersion {
            let prefix = "/" + relative + (type.namespaced ? "/namespaces/{namespace}" : "")
            let gvk: JSONValue = ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)]
            let parameters: JSONValue = [
                ["name": "fieldValidation", "in": "query", "schema": ["type": "string"]],
                ["name": "fieldManager", "in": "query", "schema": ["type": "string"]],
                ["name": "dryRun", "in": "query", "schema": ["type": "string"]],
            ]
            let op: JSONValue = ["x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "patch", "parameters": parameters, "responses": ["200": ["description": "OK"]]]
            let post: JSONValue = ["x-kubernetes-group-version-kind": gvk, "x-kubernetes-action": "post", "parameters": parameters, "responses": ["201": ["description": "Created"]]]
            paths["\(prefix)/\(type.plural)/{name}"] = ["patch": op, "put": op]
            paths["\(prefix)/\(type.plural)"] = ["post": post]
        }
        return [
            "openapi": "3.0.0",
            "info": ["title": "Kubernetes", "version": "v1.33.0-sandbox"],
            "paths": .object(paths),
            "components": ["schemas": [:]],
        ]
    }
}
