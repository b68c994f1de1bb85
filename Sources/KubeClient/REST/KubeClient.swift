import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The Kubernetes API client: REST calls on any `Codable` type (or `JSONValue`), watches,
/// logs, port-forward and exec, all over one connection machinery built from a
/// `ClientConfiguration`. Safe to share between tasks.
public final class KubeClient: Sendable {
    public let configuration: ClientConfiguration
    let transport: HTTPTransport
    let group: any EventLoopGroup

    /// Pass as `namespace` to `list` and `watch` to span all namespaces.
    public static let allNamespaces = ""

    public init(configuration: ClientConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.transport = HTTPTransport(configuration: configuration, group: eventLoopGroup)
    }

    deinit { transport.pool.closeIdle() }

    /// Closes the idle keep-alive connections; streams in use are unaffected.
    public func closeIdleConnections() {
        transport.pool.closeIdle()
    }

    // MARK: get / list

    /// One object, or one of its subresources (`status`, `scale`).
    public func get<T: Decodable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil,
        subresource: String? = nil, as type: T.Type = T.self
    ) async throws -> T {
        let ns = try objectNamespace(resource, namespace)
        let request = APIRequest(method: .GET, path: resource.path(namespace: ns, name: name, subresource: subresource), namespace: ns)
        return try await decode(T.self, from: transport.perform(request).body, what: resource.kind)
    }

    /// One page of a list. `namespace: KubeClient.allNamespaces` lists across namespaces.
    public func list<T: Decodable & Sendable>(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = ListOptions(),
        as type: T.Type = T.self
    ) async throws -> KubeList<T> {
        let ns = collectionNamespace(resource, namespace)
        let request = APIRequest(method: .GET, path: resource.path(namespace: ns), query: options.query, namespace: ns)
        return try await decode(KubeList<T>.self, from: transport.perform(request).body, what: "\(resource.kind)List")
    }

    /// Every page of a list, following continue tokens (pages of `options.limit`, default 500).
    /// The result's resourceVersion is that of the first page, where the list's snapshot was taken.
    public func listAll<T: Decodable & Sendable>(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: ListOptions = ListOptions(),
        as type: T.Type = T.self
    ) async throws -> KubeList<T> {
        var pageOptions = options
        if pageOptions.limit == nil { pageOptions.limit = 500 }
        var first = try await list(resource, namespace: namespace, options: pageOptions, as: T.self)
        var token = first.continueToken
        while let next = token {
            pageOptions.continueToken = next
            pageOptions.resourceVersion = nil  // the server rejects resourceVersion with continue
            let page = try await list(resource, namespace: namespace, options: pageOptions, as: T.self)
            first.items += page.items
            token = page.continueToken
        }
        first.metadata.continue = nil
        first.metadata.remainingItemCount = nil
        return first
    }

    // MARK: create / update / patch / delete

    /// Creates the object; its namespace is `namespace`, else its `metadata.namespace`, else the
    /// configuration's namespace.
    public func create<T: Codable>(
        _ resource: ResourceDescriptor, _ object: T, namespace: String? = nil, options: WriteOptions = WriteOptions()
    ) async throws -> T {
        let (body, metadata) = try encodeObject(object)
        let ns = try objectNamespace(resource, namespace ?? metadata.namespace)
        let request = APIRequest(
            method: .POST, path: resource.path(namespace: ns), query: options.query, body: body,
            contentType: "application/json", namespace: ns)
        return try await decode(T.self, from: transport.perform(request).body, what: resource.kind)
    }

    /// Replaces the object (PUT) named by its `metadata.name`. A `metadata.resourceVersion` makes
    /// the update conditional: a stale one fails with a 409 Conflict (`isConflict`).
    public func update<T: Codable>(
        _ resource: ResourceDescriptor, _ object: T, namespace: String? = nil, subresource: String? = nil,
        options: WriteOptions = WriteOptions()
    ) async throws -> T {
        let (body, metadata) = try encodeObject(object)
        guard let name = metadata.name, !name.isEmpty else {
            throw KubeError.invalidArgument("cannot update a \(resource.kind) without metadata.name; set the name of the object")
        }
        let ns = try objectNamespace(resource, namespace ?? metadata.namespace)
        let request = APIRequest(
            method: .PUT, path: resource.path(namespace: ns, name: name, subresource: subresource),
            query: options.query, body: body, contentType: "application/json", namespace: ns)
        return try await decode(T.self, from: transport.perform(request).body, what: resource.kind)
    }

    /// Patches an object with an `Encodable` patch body (a `JSONValue`, a dictionary, an array
    /// of JSON Patch operations, or a typed partial object for server-side apply).
    public func patch<T: Decodable, Patch: Encodable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, type: PatchType, patch: Patch,
        subresource: String? = nil, options: WriteOptions = WriteOptions(), as resultType: T.Type = T.self
    ) async throws -> T {
        let body = try Self.encoder.encode(patch)
        return try await self.patch(
            resource, name: name, namespace: namespace, type: type, body: body,
            subresource: subresource, options: options, as: T.self)
    }

    /// Patches an object with a raw body (JSON, or YAML for server-side apply).
    public func patch<T: Decodable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, type: PatchType, body: Data,
        subresource: String? = nil, options: WriteOptions = WriteOptions(), as resultType: T.Type = T.self
    ) async throws -> T {
        let ns = try objectNamespace(resource, namespace)
        var query = options.query
        if case .apply(let fieldManager, let force) = type {
            query.removeAll { $0.name == "fieldManager" }
            query.append(("fieldManager", fieldManager))
            query.append(("force", force ? "true" : "false"))
        }
        let request = APIRequest(
            method: .PATCH, path: resource.path(namespace: ns, name: name, subresource: subresource), query: query,
            body: ByteBuffer(bytes: body), contentType: type.contentType, namespace: ns)
        return try await decode(T.self, from: transport.perform(request).body, what: resource.kind)
    }

    /// Deletes an object; the answer (the object, or a Status) is discarded.
    public func delete(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions()
    ) async throws {
        _ = try await deleteRequest(resource, name: name, namespace: namespace, options: options)
    }

    /// Deletes an object and returns its last state (with `deletionTimestamp` when deletion is
    /// graceful or blocked by finalizers), or `nil` when the server answered with a Status.
    public func deleteReturningObject<T: Decodable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil,
        options: DeleteOptions = DeleteOptions(), as type: T.Type = T.self
    ) async throws -> T? {
        let body = try await deleteRequest(resource, name: name, namespace: namespace, options: options)
        if let status = try? Self.decoder.decode(Status.self, from: Data(body.readableBytesView)), status.kind == "Status" {
            return nil
        }
        return try decode(T.self, from: body, what: resource.kind)
    }

    private func deleteRequest(
        _ resource: ResourceDescriptor, name: String, namespace: String?, options: DeleteOptions
    ) async throws -> ByteBuffer {
        let ns = try objectNamespace(resource, namespace)
        let body = try Self.encoder.encode(options)
        let request = APIRequest(
            method: .DELETE, path: resource.path(namespace: ns, name: name), body: ByteBuffer(bytes: body),
            contentType: "application/json", namespace: ns)
        return try await transport.perform(request).body
    }

    // MARK: subresources

    /// The `status` subresource of an object.
    public func getStatus<T: Decodable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, as type: T.Type = T.self
    ) async throws -> T {
        try await get(resource, name: name, namespace: namespace, subresource: "status", as: T.self)
    }

    /// Replaces the `status` of an object (the spec in the body is ignored by the server).
    public func updateStatus<T: Codable>(
        _ resource: ResourceDescriptor, _ object: T, namespace: String? = nil
    ) async throws -> T {
        try await update(resource, object, namespace: namespace, subresource: "status")
    }

    /// Patches the `status` of an object.
    public func patchStatus<T: Decodable, Patch: Encodable>(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, type: PatchType, patch: Patch,
        as resultType: T.Type = T.self
    ) async throws -> T {
        try await self.patch(resource, name: name, namespace: namespace, type: type, patch: patch, subresource: "status", as: T.self)
    }

    /// The desired and observed replicas of a scalable resource (deployments, replicasets, statefulsets).
    public func getScale(_ resource: ResourceDescriptor, name: String, namespace: String? = nil) async throws -> ScaleInfo {
        let scale: JSONValue = try await get(resource, name: name, namespace: namespace, subresource: "scale")
        return Self.scaleInfo(scale)
    }

    /// Sets the desired replicas through the `scale` subresource (a PUT of the Scale object).
    @discardableResult
    public func updateScale(
        _ resource: ResourceDescriptor, name: String, namespace: String? = nil, replicas: Int
    ) async throws -> ScaleInfo {
        var scale: JSONValue = try await get(resource, name: name, namespace: namespace, subresource: "scale")
        var spec = scale["spec"]?.objectValue ?? [:]
        spec["replicas"] = .number(Double(replicas))
        scale["spec"] = .object(spec)
        let updated = try await update(resource, scale, namespace: namespace, subresource: "scale")
        return Self.scaleInfo(updated)
    }

    private static func scaleInfo(_ scale: JSONValue) -> ScaleInfo {
        ScaleInfo(
            replicas: scale["spec"]?["replicas"]?.intValue ?? 0,
            observedReplicas: scale["status"]?["replicas"]?.intValue ?? 0,
            selector: scale["status"]?["selector"]?.stringValue)
    }

    // MARK: logs

    /// The log of a pod's container as text.
    public func logs(pod: String, namespace: String? = nil, options: LogOptions = LogOptions()) async throws -> String {
        let ns = try objectNamespace(.pods, namespace)
        let request = APIRequest(
            method: .GET, path: ResourceDescriptor.pods.path(namespace: ns, name: pod, subresource: "log"),
            query: options.query(follow: false), accept: "text/plain, */*", namespace: ns)
        let body = try await transport.perform(request).body
        return String(decoding: body.readableBytesView, as: UTF8.self)
    }

    /// Follows the log of a pod's container: bytes as they come (`.lines` for lines). The stream
    /// ends when the container exits; cancelling the consuming task closes the connection.
    public func followLogs(pod: String, namespace: String? = nil, options: LogOptions = LogOptions()) async throws -> LogStream {
        let ns = try objectNamespace(.pods, namespace)
        let request = APIRequest(
            method: .GET, path: ResourceDescriptor.pods.path(namespace: ns, name: pod, subresource: "log"),
            query: options.query(follow: true), accept: "text/plain, */*", streaming: true, namespace: ns)
        let response = try await transport.send(request)
        let transport = transport
        return LogStream(producer: response.body, mapError: { transport.mapError($0) })
    }

    // MARK: helpers

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()
    static let decoder = JSONDecoder()

    func objectNamespace(_ resource: ResourceDescriptor, _ namespace: String?) throws -> String? {
        guard resource.namespaced else { return nil }
        let ns = namespace ?? configuration.namespace
        guard !ns.isEmpty else {
            throw KubeError.invalidArgument("\(resource) are namespaced; pass a namespace (-n) for this request")
        }
        return ns
    }

    func collectionNamespace(_ resource: ResourceDescriptor, _ namespace: String?) -> String? {
        guard resource.namespaced else { return nil }
        let ns = namespace ?? configuration.namespace
        return ns.isEmpty ? nil : ns
    }

    private struct MetadataName: Decodable {
        struct Meta: Decodable { var name: String?; var namespace: String? }
        var metadata: Meta?
    }

    private func encodeObject<T: Encodable>(_ object: T) throws -> (ByteBuffer, (name: String?, namespace: String?)) {
        let data = try Self.encoder.encode(object)
        let meta = (try? Self.decoder.decode(MetadataName.self, from: data))?.metadata
        return (ByteBuffer(bytes: data), (meta?.name, meta?.namespace))
    }

    func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer, what: String) throws -> T {
        do {
            return try Self.decoder.decode(T.self, from: Data(body.readableBytesView))
        } catch {
            throw KubeError.decodingFailed(what: what, reason: Self.describe(decodingError: error))
        }
    }

    static func describe(decodingError error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "the document" : String(text.drop(while: { $0 == "." }))
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)).\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
