import Foundation
import KubeClient
import NIOHTTP1
import SandboxAPIMachinery

/// The Kubernetes REST API over an `ObjectStore`: authentication, authorization, routing,
/// discovery, OpenAPI and the verbs. Pure request -> response, no sockets, so it is testable
/// without a server.
public struct KubernetesAPI: Sendable {
    public let store: ObjectStore
    /// The bootstrap token: `kubernetes-admin` in `system:masters`.
    package let token: String
    /// Checks credentials; signs and verifies service-account tokens with a key of this API.
    let authenticator: Authenticator
    let serverHost: String
    let serviceIPs = ServiceIPAllocator()
    package let podIPs = PodIPAllocator()
    /// The node's runtime (port-forward, exec, logs) and the cluster network (webhooks).
    public let node = NodeAccess()
    /// Every request RBAC refused (the sandbox's audit log of denials).
    public let denials = DenialLog()

    public init(store: ObjectStore, token: String, serverHost: String = "127.0.0.1") {
        self.store = store
        self.token = token
        self.serverHost = serverHost
        self.authenticator = Authenticator(bootstrapToken: token, signer: ServiceAccountTokenSigner())
    }

    /// The path of a resource request, resolved against the catalog.
    struct ResourcePath {
        var type: ResourceType
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    public func handle(_ request: APIRequest) async -> APIResponse {
        do {
            return try await route(request)
        } catch {
            return .error(error)
        }
    }

    func route(_ request: APIRequest) async throws(APIError) -> APIResponse {
        var request = request
        try admit(&request)
        var path = request.path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        switch path {
        case "/healthz", "/readyz", "/livez": return .text("ok")
        case "/version": return .json(Discovery.version)
        case "/api": return Discovery.core(accept: request.accept, host: serverHost)
        case "/apis": return Discovery.groups(accept: request.accept)
        case "/openapi/v3": return .json(OpenAPIDocuments.root)
        case "/openapi/v2", "/swagger-2.0.0.pb-v1", "/swagger.json":
            throw APIError.pathNotFound()
        default: break
        }
        if path.hasPrefix("/openapi/v3/") {
            guard let doc = OpenAPIDocuments.document(for: String(path.dropFirst("/openapi/v3/".count))) else {
                throw APIError.pathNotFound()
            }
            return .json(doc)
        }
        let segments = path.split(separator: "/").map(String.init)
        let groupVersion: String
        let rest: ArraySlice<String>
        if segments.first == "api", segments.count >= 2 {
            groupVersion = segments[1]
            rest = segments[2...]
        } else if segments.first == "apis", segments.count >= 3 {
            groupVersion = "\(segments[1])/\(segments[2])"
            rest = segments[3...]
        } else if segments.first == "apis", segments.count == 2 {
            guard let group = Discovery.group(named: segments[1]) else { throw APIError.pathNotFound() }
            return .json(group)
        } else {
            throw APIError.pathNotFound()
        }
        if rest.isEmpty {
            guard let list = Discovery.resourceList(groupVersion: groupVersion) else { throw APIError.pathNotFound() }
            return .json(list)
        }
        let resourcePath = try resolve(groupVersion: groupVersion, Array(rest))
        return try await serve(request, resourcePath)
    }

    func resolve(groupVersion: String, _ seg: [String]) throws(APIError) -> ResourcePath {
        func lookup(_ plural: String) -> ResourceType? { ResourceCatalog.lookup(apiVersion: groupVersion, plural: plural) }
        if seg[0] == "namespaces", seg.count >= 3, let type = lookup(seg[2]), type.namespaced {
            guard seg.count <= 5 else { throw APIError.pathNotFound() }
            return ResourcePath(type: type, namespace: seg[1], name: seg.count > 3 ? seg[3] : nil,
                                subresource: seg.count > 4 ? seg[4] : nil)
        }
        guard let type = lookup(seg[0]), seg.count <= 3 else { throw APIError.pathNotFound() }
        let path = ResourcePath(type: type, namespace: nil, name: seg.count > 1 ? seg[1] : nil,
                                subresource: seg.count > 2 ? seg[2] : nil)
        // A namespaced object needs its namespace in the path; only lists may span all.
        if type.namespaced, path.name != nil { throw APIError.pathNotFound() }
        return path
    }

    func serve(_ request: APIRequest, _ path: ResourcePath) async throws(APIError) -> APIResponse {
        if let sub = path.subresource, path.type.subresource(sub) == nil {
            throw APIError.pathNotFound()
        }
        // Reviews (access reviews, token reviews) are only ever created.
        if path.type.verbs == ["create"], path.subresource == nil {
            guard request.method == .POST, path.name == nil else { throw APIError.methodNotAllowed() }
            return try review(request, path)
        }
        if let sub = path.subresource, Self.streamSubresources.contains(sub), path.name != nil {
            // Only a WebSocket upgrade (taken before routing) reaches a stream.
            guard request.method == .GET || request.method == .POST else { throw APIError.methodNotAllowed() }
            throw APIError.badRequest("Upgrade request required")
        }
        switch (request.method, path.name) {
        case (.GET, nil):
            if try request.flag("watch") { return try watch(request, path) }
            return try list(request, path)
        case (.GET, let name?):
            return try get(request, path, name: name)
        case (.POST, nil):
            return try await create(request, path)
        case (.POST, let name?) where path.subresource == "eviction":
            return try evict(path, name: name)
        case (.POST, let name?) where path.subresource == "token" && path.type == ResourceCatalog.serviceAccounts:
            return try tokenRequest(request, path, name: name)
        case (.PUT, let name?):
            return try replace(request, path, name: name)
        case (.PATCH, let name?):
            return try patch(request, path, name: name)
        case (.DELETE, let name?):
            return try delete(request, path, name: name)
        case (.DELETE, nil):
            return try deleteCollection(request, path)
        default:
            throw APIError.methodNotAllowed()
        }
    }

    /// The namespaces and objects every cluster has: default namespaces, their default service
    /// accounts, the `kubernetes` service and the cluster DNS add-on (`ClusterDNSAddon`).
    func bootstrap() throws {
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try createObject(ResourceCatalog.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
        }
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": "kubernetes", "namespace": "default",
                         "labels": ["component": "apiserver", "provider": "kubernetes"]],
            "spec": ["clusterIP": "10.96.0.1", "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443]]],
        ]
        _ = try createObject(ResourceCatalog.services, service)
        // Cluster DNS, as every cluster has it: the kube-dns Service and the coredns pods behind it.
        _ = try createObject(ResourceCatalog.services, ClusterDNSAddon.service)
        for (type, object) in ClusterDNSAddon.objects { _ = try createObject(type, object) }
        // The RBAC policy a real API server reconciles at start-up.
        for role in BootstrapPolicy.clusterRoles { _ = try createObject(StoreRBACPolicy.clusterRoles, role) }
        for binding in BootstrapPolicy.clusterRoleBindings { _ = try createObject(StoreRBACPolicy.clusterRoleBindings, binding) }
    }

    /// The `kubernetes` Endpoints: where this API server listens (known once it is bound).
    func publishEndpoints(host: String, port: Int) throws {
        let endpoints: JSONValue = [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": "kubernetes", "namespace": "default",
                         "labels": ["endpointslice.kubernetes.io/skip-mirror": "true"]],
            "subsets": [["addresses": [["ip": .string(host)]],
                         "ports": [["name": "https", "port": .number(Double(port)), "protocol": "TCP"]]]],
        ]
        _ = try createObject(ResourceCatalog.endpoints, endpoints)
        // Its EndpointSlice, kept by the API server itself as the real one does (no selector).
        let slice: JSONValue = [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": ["kubernetes.io/service-name": "kubernetes"]],
            "addressType": "IPv4",
            "endpoints": [["addresses": [.string(host)], "conditions": ["ready": true, "serving": true, "terminating": false]]],
            "ports": [["name": "https", "port": .number(Double(port)), "protocol": "TCP"]],
        ]
        _ = try createObject(ResourceCatalog.endpointSlices, slice)
    }
}
