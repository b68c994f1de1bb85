import Foundation
import Synchronization
import Testing

/// Something a test needs from the machine it runs on (root, a device, a tool on PATH), and
/// scripts/test's rule for when it is missing: elsewhere the test is skipped (the run says so),
/// under CI (`CI=true`) it runs and fails, naming what is missing. A test never passes by
/// returning early.
///
/// Put `.enabled(where: requirement)` on the test or suite, and call ``require()`` first
/// in the test body (or its fixture): under CI that is where a missing requirement fails.
public struct HostRequirement: Sendable {
    /// What is needed, for the skip message: "root", "kubectl on PATH".
    public let name: String
    private let probe: Probe

    /// `unmetReason` says why the machine lacks it, or returns nil when it has it. It runs once,
    /// when first asked (a probe may be costly: making a network namespace, say).
    public init(_ name: String, unmetReason: @escaping @Sendable () -> String?) {
        self.name = name
        probe = Probe(unmetReason)
    }

    /// Whether this run is CI's (`CI=true`), where every test must run.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Why the machine lacks it, or nil when it has it.
    public var unmetReason: String? { probe.value }

    /// Whether the machine has it.
    public var isMet: Bool { unmetReason == nil }

    /// Whether tests that need it run: where it is met, and always under CI.
    public var shouldRun: Bool { isMet || Self.isCI }

    /// Throws ``Unmet`` (which fails the test with what is missing and how to get it) when the
    /// machine lacks it; reached only under CI, since elsewhere the trait skips the test.
    public func require() throws {
        if let reason = unmetReason { throw Unmet(requirement: name, reason: reason) }
    }

    /// A requirement the machine does not meet.
    public struct Unmet: Error, CustomStringConvertible {
        public var requirement: String
        public var reason: String
        public var description: String {
            "this test needs \(requirement), which this machine lacks: \(reason) (skipped without CI=true, a failure with it)"
        }
    }

    private final class Probe: Sendable {
        private let body: @Sendable () -> String?
        private let result = Mutex<String??>(nil)
        init(_ body: @escaping @Sendable () -> String?) { self.body = body }
        var value: String? {
            result.withLock { cached in
                if let known = cached { return known }
                let found = body()
                cached = .some(found)
                return found
            }
        }
    }
}

extension HostRequirement {
    /// Running as root (network namespaces, TUN devices, SO_PEERCRED as another user).
    public static let root = HostRequirement("root") {
        geteuid() == 0 ? nil : "the tests run as uid \(geteuid()); run them as root (sudo) or with CI=true in a container"
    }

    /// kubectl on PATH (./scripts/test's image has it).
    public static let kubectl = executable("kubectl", from: "kubectl (https://kubernetes.io/docs/tasks/tools/)")

    /// dig on PATH (./scripts/test installs it).
    public static let dig = executable("dig", from: "the Debian package bind9-dnsutils")

    /// An executable found in PATH, with where to get it.
    public static func executable(_ name: String, from package: String) -> HostRequirement {
        HostRequirement("\(name) on PATH") {
            executablePath(name) == nil ? "\(name) is not on PATH; install \(package) (./scripts/test does)" : nil
        }
    }

    /// The first `name` in PATH that is executable, or nil.
    public static func executablePath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test (or every test of the suite) where `requirement` is met and always under CI
    /// (`CI=true`); elsewhere the run reports it skipped, saying what it needs. The requirement
    /// is probed only when a run includes the test.
    public static func enabled(where requirement: HostRequirement, sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        .enabled(if: requirement.shouldRun, Comment(rawValue: "needs \(requirement.name)"), sourceLocation: sourceLocation)
    }
}
