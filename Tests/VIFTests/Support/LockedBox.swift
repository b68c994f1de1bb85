import Synchronization

/// A value shared between the test's threads (the stack's loop, kernel clients, the test).
final class LockedBox<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) throws -> sending R) rethrows -> R {
        try mutex.withLock(body)
    }
    var value: Value { mutex.withLock { $0 } }
}
