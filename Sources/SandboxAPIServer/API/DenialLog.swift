import Foundation
import SandboxAPIMachinery
import Synchronization

/// Every request RBAC refused, as a real API server's audit log would record it (one JSON object
/// per line: user, verb, resource, namespace, name, message): how a test proves that a
/// component runs with the permissions its install grants and no fewer, since a component that
/// tolerates a refusal (and falls back) shows nothing else. Kept in memory (the last 1,000) and,
/// when a path is set, appended to that file (`sandbox-cluster` keeps `audit.log` in its state
/// directory).
public final class DenialLog: Sendable {
    public struct Denial: Sendable, Codable, Equatable {
        public var user: String
        public var groups: [String]
        public var verb: String
        public var resource: String
        public var namespace: String
        public var name: String
        public var message: String
    }

    private let state = Mutex<(entries: [Denial], file: FileHandle?)>(([], nil))

    public init() {}

    /// Appends every later denial to `path` too.
    public func write(to path: URL) {
        FileManager.default.createFile(atPath: path.path, contents: nil)
        let handle = try? FileHandle(forWritingTo: path)
        _ = try? handle?.seekToEnd()
        state.withLock { $0.file = handle }
    }

    /// The denials so far, oldest first.
    public var entries: [Denial] { state.withLock { $0.entries } }

    func record(_ attributes: RequestAttributes, message: String) {
        let resource = attributes.isResourceRequest
            ? (attributes.apiGroup.isEmpty ? attributes.combinedResource : "\(attributes.combinedResource).\(attributes.apiGroup)")
            : attributes.path
        let denial = Denial(
            user: attributes.user.name, groups: attributes.user.groups, verb: attributes.verb, resource: resource,
            namespace: attributes.namespace, name: attributes.name, message: message)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let line = ((try? encoder.encode(denial)) ?? Data()) + Data("\n".utf8)
        state.withLock { state in
            state.entries.append(denial)
            if state.entries.count > 1000 { state.entries.removeFirst(state.entries.count - 1000) }
            state.file?.write(line)
        }
    }
}
