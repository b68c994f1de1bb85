import Foundation
import NIOCore

/// What to watch and how to keep watching.
public struct WatchOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Start after this resourceVersion (typically a list's); `nil` makes the server first send
    /// ADDED for every existing object.
    public var resourceVersion: String?
    /// Asks the server to end each watch request after this long; the watch then reconnects.
    public var timeoutSeconds: Int?
    /// Delays between reconnects after failures.
    public var backoff: ExponentialBackoff

    public init(
        labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
        timeoutSeconds: Int? = nil, backoff: ExponentialBackoff = ExponentialBackoff()
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.timeoutSeconds = timeoutSeconds
        self.backoff = backoff
    }
}

extension KubeClient {
    /// Watches a resource: an endless sequence of changes that survives dropped connections
    /// (it reconnects with backoff from the last seen resourceVersion, bookmarks included) and
    /// expired history (it relists, see `WatchEvent.relisted`). It ends only by throwing a
    /// non-retryable error (401, 403, 404, ...) or when the consuming task is cancelled, which
    /// closes the connection.
    public func watch<T: Decodable & Sendable>(
        _ resource: ResourceDescriptor, namespace: String? = nil, options: WatchOptions = WatchOptions(),
        as type: T.Type = T.self
    ) -> WatchSequence<T> {
        WatchSequence(client: self, resource: resource, namespace: namespace, options: options)
    }

    /// Convenience for `watch(_:namespace:options:)`.
    public func watch<T: Decodable & Sendable>(
        _ resource: ResourceDescriptor, namespace: String? = nil, labelSelector: String? = nil,
        fieldSelector: String? = nil, resourceVersion: String?, as type: T.Type = T.self
    ) -> WatchSequence<T> {
        watch(resource, namespace: namespace, options: WatchOptions(
            labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: resourceVersion))
    }

    func openWatch(
        _ resource: ResourceDescriptor, namespace: String?, options: WatchOptions, resourceVersion: String?
    ) async throws -> BodyProducer {
        let ns = collectionNamespace(resource, namespace)
        var query: [(name: String, value: String)] = [("allowWatchBookmarks", "true")]
        if let selector = options.fieldSelector { query.append(("fieldSelector", selector)) }
        if let selector = options.labelSelector { query.append(("labelSelector", selector)) }
        if let resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if let timeout = options.timeoutSeconds { query.append(("timeoutSeconds", String(timeout))) }
        query.append(("watch", "true"))
        let request = APIRequest(method: .GET, path: resource.path(namespace: ns), query: query, streaming: true, namespace: ns)
        return try await transport.send(request).body
    }
}

/// The events of a watch; see `KubeClient.watch`. Iterate it once.
public struct WatchSequence<Object: Decodable & Sendable>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<Object>
    let client: KubeClient
    let resource: ResourceDescriptor
    let namespace: String?
    let options: WatchOptions

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(sequence: self, resourceVersion: options.resourceVersion)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: WatchSequence
        /// Where a reconnect resumes: the last object's or bookmark's resourceVersion.
        public private(set) var resourceVersion: String?
        private var body: BodyProducer.AsyncIterator?
        private var splitter = LineSplitter()
        private var pending: [WatchEvent<Object>] = []
        private var failures = 0
        private var eventsOnThisConnection = 0
        private var needsRelist = false

        init(sequence: WatchSequence, resourceVersion: String?) {
            self.sequence = sequence
            self.resourceVersion = resourceVersion
        }

        public mutating func next() async throws -> WatchEvent<Object>? {
            while true {
                if !pending.isEmpty { return pending.removeFirst() }
                if Task.isCancelled { throw CancellationError() }
                if needsRelist {
                    try await relist()
                    continue
                }
                guard let current = body else {
                    try await connect()
                    continue
                }
                let chunk: ByteBuffer?
                do {
                    chunk = try await current.next()
                } catch {
                    if Task.isCancelled { throw CancellationError() }
                    dropConnection(failed: true)
                    continue
                }
                body = current
                guard let chunk else {
                    // The server ended the stream (its timeout): resume at once, unless it keeps
                    // ending streams without sending anything.
                    dropConnection(failed: eventsOnThisConnection == 0)
                    continue
                }
                for line in splitter.append(chunk) where line.readableBytes > 0 {
                    try handle(line)
                    if needsRelist { break }
                }
                if splitter.overflowed { dropConnection(failed: true) }
            }
        }

        private mutating func connect() async throws {
            if failures > 0 {
                try await Task.sleep(for: sequence.options.backoff.delay(afterFailures: failures))
            }
            do {
                let producer = try await sequence.client.openWatch(
                    sequence.resource, namespace: sequence.namespace, options: sequence.options,
                    resourceVersion: resourceVersion)
                body = producer.makeAsyncIterator()
                splitter = LineSplitter()
                eventsOnThisConnection = 0
            } catch let error as KubeError where error.isGone {
                needsRelist = true
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                guard Self.isRetryable(error) else { throw error }
                failures += 1
            }
        }

        private mutating func handle(_ line: ByteBuffer) throws {
            let frame: WatchFrame<Object>
            do {
                frame = try KubeClient.decoder.decode(WatchFrame<Object>.self, from: Data(line.readableBytesView))
            } catch {
                throw KubeError.decodingFailed(
                    what: "a watch event of \(sequence.resource.kind)", reason: KubeClient.describe(decodingError: error))
            }
            switch frame.payload {
            case .object(let type, let object):
                if let version = frame.resourceVersion { resourceVersion = version }
                switch type {
                case "ADDED": pending.append(.added(object))
                case "MODIFIED": pending.append(.modified(object))
                case "DELETED": pending.append(.deleted(object))
                default: return  // a future event type: skip it rather than fail the watch
                }
            case .bookmark:
                if let version = frame.resourceVersion { resourceVersion = version }
                pending.append(.bookmark(resourceVersion: frame.resourceVersion ?? ""))
            case .error(let status):
                if status.code == 410 || status.reason == "Expired" || status.reason == "Gone" {
                    body = nil
                    needsRelist = true
                    return
                }
                pending.append(.error(status))
                dropConnection(failed: true)
                return
            }
            eventsOnThisConnection += 1
            failures = 0
        }

        private mutating func relist() async throws {
            let list = try await sequence.client.listAll(
                sequence.resource, namespace: sequence.namespace,
                options: ListOptions(labelSelector: sequence.options.labelSelector, fieldSelector: sequence.options.fieldSelector),
                as: Object.self)
            needsRelist = false
            resourceVersion = list.resourceVersion
            pending.append(.relisted(list.items, resourceVersion: list.resourceVersion ?? ""))
        }

        /// Drops the current connection (dropping the body iterator closes it).
        private mutating func dropConnection(failed: Bool) {
            body = nil
            if failed { failures += 1 }
        }

        static func isRetryable(_ error: any Error) -> Bool {
            guard let error = error as? KubeError else { return false }
            switch error {
            case .connectionRefused, .unreachable, .timedOut, .connectionClosed, .tlsFailed, .proxyFailed:
                return true
            case .api, .unexpectedResponse:
                return [429, 500, 502, 503, 504].contains(error.code ?? 0)
            default:
                return false
            }
        }
    }
}
