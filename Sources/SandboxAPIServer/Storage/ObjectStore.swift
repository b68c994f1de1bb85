import Foundation
import KubeClient
import Synchronization

/// The sandbox's etcd: every object, keyed by resource, namespace and name, with a global
/// monotonic resourceVersion and a window of recent changes that watches replay.
///
/// All writes happen under one lock, so resourceVersions are strictly ordered and a write's
/// closure sees the object exactly as the write will replace it (a compare-and-swap without
/// retries). Closures passed to writes must not call back into the store.
public final class ObjectStore: Sendable {
    /// How many changes are kept for watches that start from an old resourceVersion.
    public let retainedEvents: Int

    struct Subscriber {
        let resourceID: String?
        let namespace: String?
        let continuation: AsyncStream<StoreEvent>.Continuation
    }

    struct State {
        var resourceVersion = 1
        var objects: [String: [String: StoredObject]] = [:]
        var log: [StoreEvent] = []
        var logStart = 0  // index of the oldest retained event in `log`
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
        /// How many objects name each uid in their ownerReferences (for garbage collection).
        var dependents: [String: Int] = [:]

        mutating func countOwners(of object: JSONValue?, by delta: Int) {
            for ref in object?["metadata"]?["ownerReferences"]?.arrayValue ?? [] {
                guard let uid = ref["uid"]?.stringValue else { continue }
                let count = dependents[uid, default: 0] + delta
                dependents[uid] = count > 0 ? count : nil
            }
        }

        /// The oldest resourceVersion a watch may start from.
        var oldestWatchable: Int {
            logStart < log.count ? log[logStart].resourceVersion - 1 : resourceVersion
        }

        mutating func record(_ event: StoreEvent, limit: Int) {
            log.append(event)
            if log.count - logStart > limit { logStart += 1 }
            // Compact now and then rather than on every write.
            if logStart > limit {
                log.removeFirst(logStart)
                logStart = 0
            }
            for subscriber in subscribers.values
            where (subscriber.resourceID == nil || subscriber.resourceID == event.resource.id)
                && (subscriber.namespace == nil || subscriber.namespace == event.object.namespace)
            {
                subscriber.continuation.yield(event)
            }
        }
    }

    let state = Mutex(State())

    public init(retainedEvents: Int = 50_000) {
        self.retainedEvents = retainedEvents
    }

    static func key(_ namespace: String, _ name: String) -> String { "\(namespace)/\(name)" }

    /// The current (latest written) resourceVersion.
    public var currentResourceVersion: Int { state.withLock { $0.resourceVersion } }

    /// The oldest resourceVersion a watch or continue token may start from.
    public var oldestWatchableResourceVersion: Int { state.withLock { $0.oldestWatchable } }

    /// Whether any stored object names `uid` as an owner.
    public func hasDependents(uid: String) -> Bool {
        state.withLock { $0.dependents[uid] != nil }
    }

    public func get(_ type: ResourceType, namespace: String, name: String) -> StoredObject? {
        state.withLock { $0.objects[type.id]?[Self.key(namespace, name)] }
    }

    /// All objects of a type (in one namespace or all), sorted by namespace/name, and the
    /// resourceVersion the snapshot reflects.
    public func list(_ type: ResourceType, namespace: String?) -> (items: [(key: String, object: StoredObject)], resourceVersion: Int) {
        state.withLock { state in
            let all = state.objects[type.id] ?? [:]
            var items: [(key: String, object: StoredObject)] = []
            items.reserveCapacity(all.count)
            if let namespace {
                let prefix = namespace + "/"
                for (k, v) in all where k.hasPrefix(prefix) { items.append((k, v)) }
            } else {
                for (k, v) in all { items.append((k, v)) }
            }
            items.sort { $0.key < $1.key }
            return (items, state.resourceVersion)
        }
    }

    /// Stores a new object. Sets uid, resourceVersion, creationTimestamp, generation and, when
    /// `metadata.name` is empty, a name from `metadata.generateName`.
    @discardableResult
    public func create(_ type: ResourceType, _ object: JSONValue) throws(APIError) -> StoredObject {
        try state.withLock { (state: inout State) throws(APIError) -> StoredObject in
            var object = object
            var meta = object["metadata"]?.objectValue ?? [:]
            let namespace = meta["namespace"]?.stringValue ?? ""
            var name = meta["name"]?.stringValue ?? ""
            if name.isEmpty, let prefix = meta["generateName"]?.stringValue, !prefix.isEmpty {
                repeat {
                    name = prefix + NameGenerator.suffix()
                } while state.objects[type.id]?[Self.key(namespace, name)] != nil
                meta["name"] = .string(name)
            }
            let key = Self.key(namespace, name)
            if state.objects[type.id]?[key] != nil { throw APIError.alreadyExists(type, name) }
            state.resourceVersion += 1
            meta["uid"] = .string(UUID().uuidString.lowercased())
            meta["resourceVersion"] = .string(String(state.resourceVersion))
            meta["creationTimestamp"] = .string(Timestamp.now())
            meta["selfLink"] = nil
            if type.tracksGeneration { meta["generation"] = 1 } else { meta["generation"] = nil }
            object["metadata"] = .object(meta)
            object["kind"] = .string(type.kind)
            object["apiVersion"] = .string(type.apiVersion)
            let stored = StoredObject(value: object, resourceVersion: state.resourceVersion)
            state.objects[type.id, default: [:]][key] = stored
            state.countOwners(of: object, by: 1)
            state.record(StoreEvent(kind: .added, resource: type, object: stored, previous: nil), limit: retainedEvents)
            return stored
        }
    }

    /// Replaces an object with what `transform` makes of the current one. Server-owned metadata
    /// (uid, creationTimestamp) is kept; generation is bumped when the spec changes; an update
    /// that changes nothing writes nothing. An object with a deletionTimestamp and no finalizers
    /// left is removed. Returns the object as stored (or as last seen, if removed).
    @discardableResult
    public func update(
        _ type: ResourceType, namespace: String, name: String,
        _ transform: (StoredObject) throws(APIError) -> JSONValue
    ) throws(APIError) -> StoredObject {
        try state.withLock { (state: inout State) throws(APIError) -> StoredObject in
            let key = Self.key(namespace, name)
            guard let current = state.objects[type.id]?[key] else { throw APIError.notFound(type, name) }
            var object = try transform(current)
            var meta = object["metadata"]?.objectValue ?? [:]
            let old = current.value["metadata"]?.objectValue ?? [:]
            for field in ["uid", "creationTimestamp", "namespace", "name", "generation", "deletionTimestamp"] {
                if field == "deletionTimestamp", meta[field] != nil, old[field] == nil { continue }
                meta[field] = old[field]
            }
            meta["resourceVersion"] = old["resourceVersion"]
            if type.tracksGeneration, object["spec"] != current.value["spec"] {
                meta["generation"] = .number(Double((old["generation"]?.intValue ?? 0) + 1))
            }
            object["metadata"] = .object(meta)
            object["kind"] = .string(type.kind)
            object["apiVersion"] = .string(type.apiVersion)
            let finalizersGone = (meta["finalizers"]?.arrayValue ?? []).isEmpty
            // A pod in its grace period (deletionGracePeriodSeconds > 0) stays until its node
            // has stopped it and set the period to 0.
            let graceOver = (meta["deletionGracePeriodSeconds"]?.intValue ?? 0) == 0
            if meta["deletionTimestamp"] != nil, finalizersGone, graceOver {
                return remove(&state, type, key: key, last: object)
            }
            if object == current.value { return current }
            state.resourceVersion += 1
            meta["resourceVersion"] = .string(String(state.resourceVersion))
            object["metadata"] = .object(meta)
            let stored = StoredObject(value: object, resourceVersion: state.resourceVersion)
            state.objects[type.id]![key] = stored
            state.countOwners(of: current.value, by: -1)
            state.countOwners(of: object, by: 1)
            state.record(StoreEvent(kind: .modified, resource: type, object: stored, previous: current), limit: retainedEvents)
            return stored
        }
    }

    /// Removes an object now (finalizers and grace are the caller's business).
    @discardableResult
    public func delete(_ type: ResourceType, namespace: String, name: String) throws(APIError) -> StoredObject {
        try state.withLock { (state: inout State) throws(APIError) -> StoredObject in
            let key = Self.key(namespace, name)
            guard let current = state.objects[type.id]?[key] else { throw APIError.notFound(type, name) }
            return remove(&state, type, key: key, last: current.value)
        }
    }

    private func remove(_ state: inout State, _ type: ResourceType, key: String, last: JSONValue) -> StoredObject {
        let previous = state.objects[type.id]?.removeValue(forKey: key)
        state.countOwners(of: previous?.value, by: -1)
        state.resourceVersion += 1
        var object = last
        object["metadata"]?["resourceVersion"] = .string(String(state.resourceVersion))
        let stored = StoredObject(value: object, resourceVersion: state.resourceVersion)
        state.record(StoreEvent(kind: .deleted, resource: type, object: stored, previous: previous), limit: retainedEvents)
        return stored
    }

    /// A live feed of changes.
    public struct Subscription: Sendable {
        /// Changes after the start resourceVersion that already happened.
        public let backlog: [StoreEvent]
        /// Changes from now on, until `cancel()`.
        public let events: AsyncStream<StoreEvent>
        let id: Int
        let store: ObjectStore
        public func cancel() { store.unsubscribe(id) }
    }

    /// Subscribes to changes of one resource type (or all, when `type` is nil), optionally in
    /// one namespace, starting after `resourceVersion` (nil: from now).
    /// Throws 410 Expired when that resourceVersion is older than the retained window.
    public func subscribe(
        _ type: ResourceType?, namespace: String?, after resourceVersion: Int?
    ) throws(APIError) -> Subscription {
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream()
        let result = try state.withLock { (state: inout State) throws(APIError) -> (Int, [StoreEvent]) in
            var backlog: [StoreEvent] = []
            if let from = resourceVersion, from < state.resourceVersion {
                guard from >= state.oldestWatchable else {
                    throw APIError.expired("too old resource version: \(from) (\(state.oldestWatchable))")
                }
                // Binary search the first retained event newer than `from`.
                var lo = state.logStart
                var hi = state.log.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if state.log[mid].resourceVersion <= from { lo = mid + 1 } else { hi = mid }
                }
                for event in state.log[lo...]
                where (type == nil || event.resource.id == type!.id)
                    && (namespace == nil || event.object.namespace == namespace)
                {
                    backlog.append(event)
                }
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = Subscriber(resourceID: type?.id, namespace: namespace, continuation: continuation)
            return (id, backlog)
        }
        let id = result.0
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
        return Subscription(backlog: result.1, events: stream, id: id, store: self)
    }

    func unsubscribe(_ id: Int) {
        let removed = state.withLock { $0.subscribers.removeValue(forKey: id) }
        removed?.continuation.finish()
    }
}

/// Random name suffixes like the API server's `generateName`.
enum NameGenerator {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
    static func suffix(length: Int = 5) -> String {
        String((0..<length).map { _ in alphabet.randomElement()! })
    }
}
