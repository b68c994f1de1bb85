import Foundation
import Logging
import Synchronization

/// The log level a daemon or the traffic-manager runs at, changeable at run time through the
/// `SetLogLevel` calls, optionally for a while only (then the configured level comes back).
/// `LevelControlledLogHandler` reads it on every message, so a change applies at once.
public final class LogLevelControl: Sendable {
    private struct State {
        var configured: Logger.Level
        var override: Logger.Level?
        var until: ContinuousClock.Instant?
    }

    private let state: Mutex<State>

    public init(configured: Logger.Level) {
        state = Mutex(State(configured: configured))
    }

    /// The level in force now.
    public var level: Logger.Level {
        state.withLock { state in
            if let until = state.until, ContinuousClock.now >= until {
                state.override = nil
                state.until = nil
            }
            return state.override ?? state.configured
        }
    }

    /// Sets the level; with a duration, for that long only.
    public func set(_ level: Logger.Level, for duration: Duration? = nil) {
        state.withLock { state in
            if let duration, duration > .zero {
                state.override = level
                state.until = ContinuousClock.now + duration
            } else {
                state.configured = level
                state.override = nil
                state.until = nil
            }
        }
    }

    /// `error`, `warn`/`warning`, `info`, `debug`, `trace` (any case), as Telepresence names them.
    public static func parse(_ text: String) -> Logger.Level? {
        switch text.lowercased() {
        case "error": .error
        case "warn", "warning": .warning
        case "info": .info
        case "debug": .debug
        case "trace": .trace
        case "critical", "fatal": .critical
        case "notice": .notice
        default: nil
        }
    }
}

/// Writes `time level [label] message` lines to a file handle (a log file or stderr), filtered
/// by a `LogLevelControl`.
public struct LevelControlledLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let control: LogLevelControl
    private let output: FileHandle

    public init(label: String, control: LogLevelControl, output: FileHandle) {
        self.label = label
        self.control = control
        self.output = output
    }

    public var logLevel: Logger.Level {
        get { control.level }
        set { control.set(newValue) }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var text = "\(Self.timestamp()) \(event.level.rawValue.uppercased()) [\(label)] \(event.message)"
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        if !all.isEmpty {
            text += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        output.write(Data((text + "\n").utf8))
    }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
