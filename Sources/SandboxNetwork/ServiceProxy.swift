import Foundation
import KubeClient
import SandboxAPIServer
import Synchronization

/// Keeps the node namespace's nftables table in step with the store's Services and EndpointSlices:
/// each change (debounced, so a rollout's burst of updates costs one write) rebuilds
/// ``ServiceRules`` and, when they differ from what is loaded, applies them with one atomic
/// `nft -f`.
final class ServiceProxy: Sendable {
    static let debounce = Duration.milliseconds(15)
    private let store: ObjectStore
    private let namespace: String
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let applied = Mutex<ServiceRules?>(nil)
    /// How many scripts were loaded (tests and logs).
    let applications = Atomic<Int>(0)

    init(store: ObjectStore, namespace: String) {
        self.store = store
        self.namespace = namespace
    }

    /// Loads the current rules, then follows the store until ``stop()``.
    func start() async throws {
        let subscription = try store.subscribe(nil, namespace: nil, after: nil)
        try await reconcile()
        let loop = Task {
            defer { subscription.cancel() }
            var pending = false
            var iterator = subscription.events.makeAsyncIterator()
            while !Task.isCancelled {
                // After a relevant event, wait a moment for its siblings, then reconcile once.
                if pending {
                    try? await Task.sleep(for: Self.debounce)
                    try? await reconcile()
                    pending = false
                }
                guard let event = await iterator.next() else { break }
                if ["Service", "EndpointSlice"].contains(event.resource.kind) { pending = true }
            }
        }
        task.withLock { $0 = loop }
    }

    func stop() async {
        let loop = task.withLock { $0 }
        loop?.cancel()
        await loop?.value
    }

    /// Whether the loaded rules send connections to `ip` (as one of some port's endpoints).
    func routes(to ip: String) -> Bool {
        applied.withLock { rules in rules?.rules.contains { $0.endpoints.contains { $0.ip == ip } } ?? false }
    }

    /// Rebuilds the rules from the store and loads them when they changed.
    func reconcile() async throws {
        let rules = ServiceRules(
            services: store.list(ResourceCatalog.services, namespace: nil).items.map(\.object),
            endpointSlices: store.list(ResourceCatalog.endpointSlices, namespace: nil).items.map(\.object))
        if applied.withLock({ $0 == rules }) { return }
        let script = rules.script
        _ = try await ClusterNamespace.run(in: namespace) {
            try SystemCommand.run(["nft", "-f", "-"], input: script)
        }
        applied.withLock { $0 = rules }
        applications.add(1, ordering: .relaxed)
    }
}

extension ServiceProxy: ServiceRouting {
    /// Polls what was loaded: the EndpointSlice controller marks a terminating pod not ready on the same store
    /// event that tells the node, and the proxy loads the change within its debounce plus one
    /// `nft -f` (tens of milliseconds).
    func waitUntilUnrouted(_ podIP: String, timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while routes(to: podIP), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
