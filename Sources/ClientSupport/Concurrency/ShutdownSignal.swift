import Synchronization

/// Fires once; a handler registered later runs at once. A daemon's Quit call fires it, and the
/// daemon's server stops once the answer is out.
public final class ShutdownSignal: Sendable {
    private let state = Mutex<(fired: Bool, handler: (@Sendable () -> Void)?)>((false, nil))

    public init() {}

    public func fire() {
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            state.fired = true
            return state.handler
        }
        handler?()
    }

    public func onFire(_ handler: @escaping @Sendable () -> Void) {
        let fired = state.withLock { state -> Bool in
            state.handler = handler
            return state.fired
        }
        if fired { handler() }
    }
}
