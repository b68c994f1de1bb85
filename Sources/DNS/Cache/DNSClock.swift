/// The time source of the cache: `SystemDNSClock` in the product, a manual clock in tests so TTLs
/// and deadlines are checked without waiting.
public protocol DNSClock: Sendable {
    /// Time elapsed since an arbitrary fixed origin.
    var now: Duration { get }
    /// Suspends for `duration`; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The monotonic system clock.
public struct SystemDNSClock: DNSClock {
    private let origin = ContinuousClock.now

    public init() {}

    public var now: Duration { ContinuousClock.now - origin }

    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
