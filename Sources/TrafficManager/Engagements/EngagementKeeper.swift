import Foundation
import Synchronization

/// The live `EngagementState` of a running manager: the lock, and a signal to every watcher
/// (WatchIntercepts streams, CreateIntercept calls waiting for agents) after each change.
public final class EngagementKeeper: Sendable {
    private struct Box {
        var state = EngagementState()
        var subscribers: [UUID: AsyncStream<Void>.Continuation] = [:]
    }

    private let box = Mutex(Box())

    public init() {}

    /// Reads the state.
    public func read<T: Sendable>(_ body: (EngagementState) -> T) -> T {
        box.withLock { body($0.state) }
    }

    /// Changes the state and signals every subscriber.
    public func change<T: Sendable>(_ body: (inout EngagementState) throws(EngagementError) -> T) throws(EngagementError) -> T {
        let (result, subscribers) = try box.withLock { box throws(EngagementError) in
            (try body(&box.state), Array(box.subscribers.values))
        }
        for subscriber in subscribers { subscriber.yield() }
        return result
    }

    /// A signal after every change (and one at once when `initial`), until the consumer stops
    /// iterating.
    public func changes(initial: Bool = true) -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        box.withLock { $0.subscribers[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.box.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        if initial { continuation.yield() }
        return stream
    }

    /// A session ended: its engagements (a client's, returned) or its agent go.
    @discardableResult
    public func sessionEnded(_ id: String) -> [EngagementState.Intercept] {
        (try? change { state throws(EngagementError) in state.sessionEnded(id) }) ?? []
    }
}
