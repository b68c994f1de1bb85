/// Delays between reconnect attempts: doubling from `initial`, capped at `maximum`, each
/// scaled by a random factor in [0.5, 1] so many clients do not reconnect in lockstep.
public struct ExponentialBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before attempt `failures` (1 for the first retry).
    public func delay(afterFailures failures: Int, jitter: Double = Double.random(in: 0.5...1)) -> Duration {
        guard failures > 0 else { return .zero }
        let exponent = min(failures - 1, 30)
        var delay = initial * (1 << exponent)
        if delay > maximum || delay < .zero { delay = maximum }
        return delay * jitter
    }
}
