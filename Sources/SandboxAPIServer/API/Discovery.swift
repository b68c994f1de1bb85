import KubeClient

/// Discovery documents: legacy (`APIVersions`, `APIGroupList`, `APIResourceList`) and
/// aggregated (`APIGroupDiscoveryList` v2 or v2beta1), chosen by the Accept header. kubectl picks
/// aggregated discovery by the response Content-Type, so it must be exact.
enum Discovery {
    static let version: JSONValue = [
        "major": "1", "minor": "33", "gitVersion": "v1.33.0-sandbox", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
        "platform": "linux/amd64",
    ]

    /// The aggregated discovery version the client accepts, if any: "v2" preferred.
    static func aggregatedVersion(_ accept: String) -> String? {
        let offered = accept.split(separator: ",").map { $0.replacingOccurrences(of: " ", with: "") }
        for version in ["v2", "v2beta1"] {
            if offered.contains(where: { $0.contains("g=apidiscovery.k8s.io") && $0.contains("v=\(version);") && $0.contains("as=APIGroupDiscoveryList") }) {
                return version
            }
        }
        return nil
    }

    static func aggregated(_ items: [JSONValue], version: String) -> APIResponse {
        let body: JSONValue = [
            "kind": "APIGroupDiscoveryList", "apiVersion": .string("apidiscovery.k8s.io/\(version)"),
            "metadata": [:], "items": .array(items),
        ]
        return .full(
            status: 200, contentType: "application/json;g=apidiscovery.k8s.io;v=\(version);as=APIGroupDiscoveryList",
            body: JSONBytes.encode(body))
    }

    static func core(accept: String, host: String) -> APIResponse {
        if let version = aggregatedVersion(accept) {
            return aggregated([groupDiscovery("")], version: version)
        }
        return .json([
            "kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": .string(host)]],
        ])
    }

    static var namedGroups: [String] { ResourceCatalog.groups.filter { !$0.isEmpty } }

    static func groups(accept: String) -> APIResponse {
        if let version = aggregatedVersion(accept) {
            return aggregated(namedGroups.map(groupDiscovery), version: version)
        }
        return .json(["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(namedGroups.compactMap(group(named:)))])
    }

    static func group(named name: String) -> JSONValue? {
        guard namedGroups.contains(name) else { return nil }
        let gv: JSONValue = ["groupVersion": .string("\(name)/v1"), "version": "v1"]
        return ["kind": "APIGroup", "apiVersion": "v1", "name": .string(name), "versions": [gv], "preferredVersion": gv]
    }

    static func verbs(_ type: ResourceType) -> JSONValue { .array(type.verbs.map { .string($0) }) }

    static func resourceList(groupVersion: String) -> JSONValue? {
        let types = ResourceCatalog.all.filter { $0.apiVersion == groupVersion }
        guard !types.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for type in types {
            var entry: JSONValue = [
                "name": .string(type.plural), "singularName": .string(type.singular),
                "namespaced": .bool(type.namespaced), "kind": .string(type.kind), "verbs": verbs(type),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            resources.append(entry)
            for sub in type.subresources {
                var subEntry: JSONValue = [
                    "name": .string("\(type.plural)/\(sub.name)"), "singularName": "",
                    "namespaced": .bool(type.namespaced), "kind": .string(sub.kind),
                    "verbs": .array(sub.verbs.map { .string($0) }),
                ]
                if sub.group != type.group { subEntry["group"] = .string(sub.group); subEntry["version"] = .string(sub.version) }
                resources.append(subEntry)
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(groupVersion), "resources": .array(resources)]
    }

    static func groupDiscovery(_ group: String) -> JSONValue {
        let types = ResourceCatalog.all.filter { $0.group == group }
        let resources: [JSONValue] = types.map { type in
            var entry: JSONValue = [
                "resource": .string(type.plural),
                "responseKind": ["group": .string(type.group), "version": .string(type.version), "kind": .string(type.kind)],
                "scope": type.namespaced ? "Namespaced" : "Cluster",
                "singularResource": .string(type.singular),
                "verbs": verbs(type),
            ]
            if !type.shortNames.isEmpty { entry["shortNames"] = .array(type.shortNames.map { .string($0) }) }
            if !type.categories.isEmpty { entry["categories"] = .array(type.categories.map { .string($0) }) }
            if !type.subresources.isEmpty {
                entry["subresources"] = .array(type.subresources.map { sub in
                    [
                        "subresource": .string(sub.name),
                        "responseKind": ["group": .string(sub.group), "version": .string(sub.version), "kind": .string(sub.kind)],
                        "verbs": .array(sub.verbs.map { .string($0) }),
                    ]
                })
            }
            return entry
        }
        return [
            "metadata": ["name": .string(group)],
            "versions": [["version": "v1", "freshness": "Current", "resources": .array(resources)]],
        ]
    }
}
