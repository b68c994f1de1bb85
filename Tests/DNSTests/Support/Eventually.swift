/// Waits until `condition` holds, checking every few milliseconds; throws after `timeout` so a
/// test fails instead of hanging.
func eventually(
    timeout: Duration = .seconds(5), _ what: String = "condition",
    _ condition: () async -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !(await condition()) {
        guard clock.now < deadline else { throw WaitTimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

