import Foundation
import KubeClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import PKI
import Synchronization
import TestSupport

/// A small stand-in Kubernetes API server for the transport's tests: HTTP or HTTPS (with
/// optional client-certificate verification), bearer tokens, an in-memory object store,
/// scripted watch streams and logs, and WebSocket port-forward and exec.
final class TestAPIServer: Sendable {
    struct Options: Sendable {
        var https = true
        var certificate: IssuedCertificate = TestPKI.shared.server
        /// Require a client certificate signed by the test CA.
        var requireClientCertificate = false
        /// Accepted bearer tokens; empty means no token check.
        var tokens: Set<String> = []
        /// A path prefix the server is mounted under (as behind Rancher-style proxies).
        var basePath = ""
        var execProtocols = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
        /// Port-forward over WebSocket; without it the server refuses that upgrade with 400 and
        /// only SPDY/3.1 works (an older server, or a proxy that drops WebSocket).
        var webSocketPortForward = true
    }

    struct RecordedRequest: Sendable {
        var method: String
        var uri: String
        var path: String
        var query: [String: [String]]
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func queryValue(_ name: String) -> String? { query[name]?.first }
    }

    enum WatchStep: Sendable {
        case event(String, JSONValue)
        /// Raw bytes, to split frames at awkward places.
        case raw(String)
        /// An ERROR event with a 410 Expired status, then the end of the stream.
        case errorGone
        /// Answer the watch request itself with HTTP 410.
        case httpGone
        /// Close the connection abruptly.
        case drop
        /// End the response normally.
        case end
        /// Keep the stream open until the client goes away.
        case hold
    }

    struct State {
        var store = ObjectStore()
        var requests: [RecordedRequest] = []
        var watchScripts: [[WatchStep]] = []
        var closedWatches = 0
        var openWatches = 0
        var execProtocolsChosen: [String] = []
        var logLines = ["first line", "second line", "third line"]
    }

    let options: Options
    let state = Mutex(State())
    private let channel: any Channel

    var port: Int { channel.localAddress!.port! }
    var address: ServerAddress {
        ServerAddress(scheme: options.https ? .https : .http, host: "127.0.0.1", port: port, basePath: options.basePath)
    }

    init(options: Options = Options()) async throws {
        self.options = options
        var sslContext: NIOSSLContext?
        if options.https {
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(options.certificate.certificatePEM.utf8)).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(options.certificate.privateKeyPEM.utf8), format: .pem)))
            if options.requireClientCertificate {
                tls.certificateVerification = .noHostnameVerification
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(TestPKI.shared.caPEM))
            }
            sslContext = try NIOSSLContext(configuration: tls)
        }
        let box = ServerBox()
        let context = sslContext
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let sync = child.pipeline.syncOperations
                    if let context { try sync.addHandler(NIOSSLServerHandler(context: context)) }
                    let upgrader = NIOWebSocketServerUpgrader(
                        maxFrameSize: 1 << 24,
                        shouldUpgrade: { channel, head in
                            channel.eventLoop.makeSucceededFuture(box.server?.upgradeHeaders(head))
                        },
                        upgradePipelineHandler: { channel, head in
                            channel.pipeline.removeHandler(name: "api").flatMapThrowing {
                                try box.server?.installStream(on: channel, head: head)
                            }
                        })
                    let spdy = SPDYPortForwardUpgrader(
                        accept: { head in box.server?.acceptSPDY(head) ?? false },
                        install: { channel, head in try box.server?.installSPDYPortForward(on: channel, head: head) })
                    try sync.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader, spdy], completionHandler: { _ in }))
                    try sync.addHandler(APIHandler(box: box), name: "api")
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.server = self
    }

    func shutdown() async {
        try? await channel.close().get()
    }

    // MARK: test helpers

    var requests: [RecordedRequest] { state.withLock { $0.requests } }
    func requests(path: String) -> [RecordedRequest] { requests.filter { $0.path == path } }
    func addWatchScript(_ steps: [WatchStep]) { state.withLock { $0.watchScripts.append(steps) } }

    func seed(_ collection: String, _ object: JSONValue, namespace: String?) {
        state.withLock { _ = try? $0.store.create(collection, object, namespace: namespace, kindName: "objects") }
    }

    /// Waits until `condition` holds of the server's state, failing after `timeout`.
    func wait(for what: String, timeout: Duration = .seconds(10), _ condition: (State) -> Bool) async throws {
        try await waitUntil(what, timeout: timeout) { state.withLock { condition($0) } }
    }

    // MARK: routing

    /// A parsed API path: `/api/v1/namespaces/ns/pods/name/sub` or `/apis/g/v/...`.
    struct Route {
        var collection: String
        var resource: String
        var group: String
        var namespace: String?
        var name: String?
        var subresource: String?
        var kindName: String { group.isEmpty ? resource : "\(resource).\(group)" }
    }

    static func parse(path: String) -> Route? {
        var parts = path.split(separator: "/").map(String.init)[...]
        var group = ""
        if parts.first == "api", parts.count >= 2 {
            parts = parts.dropFirst(2)
        } else if parts.first == "apis", parts.count >= 3 {
            group = parts[parts.startIndex + 1]
            parts = parts.dropFirst(3)
        } else {
            return nil
        }
        var namespace: String?
        if parts.first == "namespaces", parts.count >= 3 {
            namespace = parts[parts.startIndex + 1]
            parts = parts.dropFirst(2)
        }
        guard let resource = parts.first else { return nil }
        parts = parts.dropFirst()
        let name = parts.first
        let subresource = parts.dropFirst().first
        let collection = "\(group)/\(resource)/\(namespace ?? "")"
        return Route(collection: collection, resource: resource, group: group, namespace: namespace, name: name, subresource: subresource)
    }

    enum Reply {
        case json(Int, JSONValue)
        case text(Int, String, contentType: String)
        case watch([WatchStep])
        case logFollow([String])
        /// Never answer (for timeout tests).
        case never
    }

    static func status(_ code: Int, _ reason: String, _ message: String, causes: [StatusCause] = []) -> Reply {
        var status = Status(status: "Failure", message: message, reason: reason, code: code)
        if !causes.isEmpty { status.details = StatusDetails(causes: causes) }
        return .json(code, (try? JSONValue(encoding: status)) ?? .null)
    }

    func authorized(_ headers: HTTPHeaders) -> Bool {
        guard !options.tokens.isEmpty else { return true }
        guard let value = headers.first(name: "Authorization"), value.hasPrefix("Bearer ") else { return false }
        return options.tokens.contains(String(value.dropFirst("Bearer ".count)))
    }

    func record(_ head: HTTPRequestHead, body: String) -> RecordedRequest {
        let components = URLComponents(string: head.uri)
        var query: [String: [String]] = [:]
        for item in components?.queryItems ?? [] { query[item.name, default: []].append(item.value ?? "") }
        let request = RecordedRequest(
            method: head.method.rawValue, uri: head.uri, path: components?.path ?? head.uri, query: query,
            headers: head.headers.map { ($0.name, $0.value) }, body: body)
        state.withLock { $0.requests.append(request) }
        return request
    }

    func handle(_ head: HTTPRequestHead, body: String) -> Reply {
        var request = record(head, body: body)
        guard authorized(head.headers) else { return Self.status(401, "Unauthorized", "Unauthorized") }
        guard request.path.hasPrefix(options.basePath) else { return .text(404, "404 page not found", contentType: "text/plain") }
        request.path = String(request.path.dropFirst(options.basePath.count))
        guard let route = Self.parse(path: request.path) else { return .text(404, "404 page not found", contentType: "text/plain") }
        if route.resource == "nodes", route.name == "never-answers" { return .never }
        if route.resource == "nodes", route.name == "html-error" {
            return .text(502, "<html><body>Bad Gateway</body></html>", contentType: "text/html")
        }
        return state.withLock { state -> Reply in
            do {
                return try Self.route(request, route, head: head, body: body, state: &state)
            } catch let failure as ObjectStore.Failure {
                return Self.status(failure.code, failure.reason, failure.message, causes: failure.causes)
            } catch {
                return Self.status(400, "BadRequest", "\(error)")
            }
        }
    }

    private static func route(_ request: RecordedRequest, _ route: Route, head: HTTPRequestHead, body: String, state: inout State) throws -> Reply {
        switch (head.method, route.name, route.subresource) {
        case (.GET, nil, _):
            if ["true", "1", "True"].contains(request.queryValue("watch") ?? "") {
                state.openWatches += 1
                return .watch(state.watchScripts.isEmpty ? [.hold] : state.watchScripts.removeFirst())
            }
            var items = state.store.list(route.collection, labelSelector: request.queryValue("labelSelector"), fieldSelector: request.queryValue("fieldSelector"))
            let offset = Int(request.queryValue("continue") ?? "") ?? 0
            items = Array(items.dropFirst(offset))
            var metadata: [String: JSONValue] = ["resourceVersion": .string(String(state.store.resourceVersion))]
            if let limit = Int(request.queryValue("limit") ?? ""), items.count > limit {
                items = Array(items.prefix(limit))
                metadata["continue"] = .string(String(offset + limit))
                metadata["remainingItemCount"] = .number(Double(state.store.list(route.collection, labelSelector: request.queryValue("labelSelector"), fieldSelector: nil).count - offset - limit))
            }
            return .json(200, .object(["kind": .string("List"), "apiVersion": .string("v1"), "metadata": .object(metadata), "items": .array(items)]))
        case (.GET, _?, "portforward"), (.POST, _?, "portforward"):
            // What the real server answers when the upgrade was not accepted.
            return Self.status(400, "BadRequest", "Upgrade request required")
        case (.GET, _?, "log"):
            let lines = state.logLines
            if request.queryValue("follow") == "true" { return .logFollow(lines) }
            let tail = Int(request.queryValue("tailLines") ?? "") ?? lines.count
            return .text(200, lines.suffix(tail).map { $0 + "\n" }.joined(), contentType: "text/plain")
        case (.GET, let name?, "scale"):
            let object = try state.store.get(route.collection, name, kindName: route.kindName)
            return .json(200, scale(of: object))
        case (.PUT, let name?, "scale"):
            var object = try state.store.get(route.collection, name, kindName: route.kindName)
            let replicas = try JSONValue(data: Data(body.utf8))["spec"]?["replicas"] ?? .number(1)
            object = ObjectStore.mergePatch(object, .object(["spec": .object(["replicas": replicas])]))
            object["metadata"]?["resourceVersion"] = nil
            let updated = try state.store.update(route.collection, name, object, kindName: route.kindName)
            return .json(200, scale(of: updated))
        case (.GET, let name?, _):
            return .json(200, try state.store.get(route.collection, name, kindName: route.kindName))
        case (.POST, nil, _):
            return .json(201, try state.store.create(route.collection, try JSONValue(data: Data(body.utf8)), namespace: route.namespace, kindName: route.kindName))
        case (.PUT, let name?, _):
            return .json(200, try state.store.update(route.collection, name, try JSONValue(data: Data(body.utf8)), kindName: route.kindName))
        case (.PATCH, let name?, _):
            let contentType = head.headers.first(name: "Content-Type") ?? ""
            let patch = try JSONValue(data: Data(body.utf8))
            if contentType == "application/apply-patch+yaml", state.store.objects[route.collection]?[name] == nil {
                return .json(201, try state.store.create(route.collection, patch, namespace: route.namespace, kindName: route.kindName))
            }
            let existing = try state.store.get(route.collection, name, kindName: route.kindName)
            var patched: JSONValue
            switch contentType {
            case "application/json-patch+json": patched = try ObjectStore.jsonPatch(existing, patch)
            case "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml":
                patched = ObjectStore.mergePatch(existing, patch)
            default:
                return Self.status(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
            }
            patched["metadata"]?["resourceVersion"] = nil
            return .json(200, try state.store.update(route.collection, name, patched, kindName: route.kindName))
        case (.DELETE, let name?, _):
            return .json(200, try state.store.delete(route.collection, name, kindName: route.kindName))
        default:
            return Self.status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        }
    }

    private static func scale(of object: JSONValue) -> JSONValue {
        let replicas = object["spec"]?["replicas"] ?? .number(1)
        return .object([
            "kind": .string("Scale"), "apiVersion": .string("autoscaling/v1"),
            "metadata": .object(["name": object["metadata"]?["name"] ?? .null]),
            "spec": .object(["replicas": replicas]),
            "status": .object(["replicas": object["status"]?["replicas"] ?? .number(0), "selector": .string("app=web")]),
        ])
    }

    // MARK: WebSocket streams

    /// The response headers for an acceptable upgrade, `nil` to answer with plain HTTP.
    func upgradeHeaders(_ head: HTTPRequestHead) -> HTTPHeaders? {
        guard authorized(head.headers) else { return nil }
        let offered = head.headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let supported: [String]
        if head.uri.contains("/portforward") {
            supported = options.webSocketPortForward ? ["v4.channel.k8s.io"] : []
        } else if head.uri.contains("/exec") {
            supported = options.execProtocols
        } else {
            return nil
        }
        guard let chosen = offered.first(where: { supported.contains($0) }) else { return nil }
        _ = record(head, body: "")
        if head.uri.contains("/exec") { state.withLock { $0.execProtocolsChosen.append(chosen) } }
        return ["Sec-WebSocket-Protocol": chosen]
    }

    func installStream(on channel: any Channel, head: HTTPRequestHead) throws {
        let components = URLComponents(string: head.uri)
        let items = components?.queryItems ?? []
        let pod = components.flatMap { Self.parse(path: String($0.path.dropFirst(options.basePath.count)))?.name } ?? "?"
        let sync = channel.pipeline.syncOperations
        if head.uri.contains("/portforward") {
            let port = Int(items.first { $0.name == "ports" }?.value ?? "") ?? 0
            try sync.addHandler(ServerPortForwardHandler(pod: pod, port: port))
        } else {
            let offered = head.headers["Sec-WebSocket-Protocol"].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let chosen = offered.first { options.execProtocols.contains($0) } ?? ""
            try sync.addHandler(ServerExecHandler(
                command: items.filter { $0.name == "command" }.compactMap(\.value), isV5: chosen.hasPrefix("v5")))
        }
    }

    func acceptSPDY(_ head: HTTPRequestHead) -> Bool {
        guard authorized(head.headers), head.uri.contains("/portforward") else { return false }
        _ = record(head, body: "")
        return true
    }

    func installSPDYPortForward(on channel: any Channel, head: HTTPRequestHead) throws {
        let components = URLComponents(string: head.uri)
        let pod = components.flatMap { Self.parse(path: String($0.path.dropFirst(options.basePath.count)))?.name } ?? "?"
        try channel.pipeline.syncOperations.addHandler(ServerSPDYPortForwardHandler(pod: pod))
    }

    final class ServerBox: @unchecked Sendable {
        // Written once before the server accepts connections, read-only afterwards.
        var server: TestAPIServer?
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
