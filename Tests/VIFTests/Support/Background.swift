import Foundation

/// Work on a dedicated thread (kernel sockets block), joined with ``value()``.
final class Background<T: Sendable>: Sendable {
    private let result = LockedBox<Result<T, any Error>?>(nil)
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> T) {
        let result = result
        let done = done
        Thread {
            let r = Result { try body() }
            result.withLock { $0 = r }
            done.signal()
        }.start()
    }

    func value() throws -> T {
        done.wait()
        done.signal()
        return try result.value!.get()
    }
}
