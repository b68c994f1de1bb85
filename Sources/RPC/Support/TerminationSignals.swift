import Dispatch
import Foundation

/// SIGTERM and SIGINT as an async stream, for the two long-running processes that serve this
/// module's APIs (the user daemon, the traffic-manager): they end as a Quit would. Dispatch
/// sources, so no code runs in signal context.
public enum TerminationSignals {
    public static func stream() -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let sources = SignalSources([SIGTERM, SIGINT].map { number in
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number)
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                return source
            })
            continuation.onTermination = { _ in sources.cancel() }
        }
    }
}

/// Dispatch sources are thread-safe; this box only lets the termination handler cancel them.
private final class SignalSources: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}
